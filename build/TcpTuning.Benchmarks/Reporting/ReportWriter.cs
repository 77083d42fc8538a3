using System.Globalization;
using System.Text;

namespace TcpTuning.Benchmarks.Reporting;

/// <summary>The Markdown report: headings, paragraphs and tables, formatted with the invariant culture.</summary>
internal sealed class ReportWriter
{
    private readonly StringBuilder _text = new();

    public ReportWriter Heading(int level, string text)
    {
        _text.Append('#', level).Append(' ').AppendLine(text).AppendLine();
        return this;
    }

    /// <summary>An image, by a path relative to the report.</summary>
    public ReportWriter Image(string alternative, string path)
    {
        _text.Append("![").Append(alternative).Append("](").Append(path).AppendLine(")").AppendLine();
        return this;
    }

    public ReportWriter Paragraph(FormattableString text)
    {
        _text.AppendLine(text.ToString(CultureInfo.InvariantCulture)).AppendLine();
        return this;
    }

    /// <summary>A table's header; columns whose name starts with '&gt;' are numbers, aligned right (the mark is dropped).</summary>
    public ReportWriter Table(params string[] columns)
    {
        _text.Append("| ").AppendJoin(" | ", columns.Select(c => c.TrimStart('>'))).AppendLine(" |");
        _text.Append('|').AppendJoin('|', columns.Select(c => c.StartsWith('>') ? "---:" : "---")).AppendLine("|");
        return this;
    }

    public ReportWriter Row(FormattableString cells)
    {
        _text.Append("| ").Append(cells.ToString(CultureInfo.InvariantCulture)).AppendLine(" |");
        return this;
    }

    /// <summary>Ends a table (a blank line).</summary>
    public ReportWriter EndTable()
    {
        _text.AppendLine();
        return this;
    }

    public override string ToString() => _text.ToString().TrimEnd() + Environment.NewLine;
}
