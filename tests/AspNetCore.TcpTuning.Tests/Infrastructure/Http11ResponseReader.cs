using System.Globalization;
using System.Text;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>
/// Decodes HTTP/1.1 responses as received, so two servers can be compared on what a client sees (status, headers,
/// framing kind, decoded body, completeness, how the connection ended) rather than on where chunks were cut.
/// </summary>
public static class Http11ResponseReader
{
    /// <summary>One line per response and a last line for what followed and how the connection ended.</summary>
    public static string Describe(RawTranscript transcript, bool headRequest = false)
    {
        var text = new StringBuilder();
        ReadOnlySpan<byte> bytes = transcript.Bytes;
        while (!bytes.IsEmpty)
        {
            var end = bytes.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                break;
            }

            var head = Encoding.Latin1.GetString(bytes[..end]).Split("\r\n");
            bytes = bytes[(end + 4)..];
            var headers = head.Skip(1)
                .Where(h => !h.StartsWith("Date:", StringComparison.OrdinalIgnoreCase))
                .Order(StringComparer.OrdinalIgnoreCase)
                .ToList();
            var chunked = headers.Any(h => h.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && h.Contains("chunked", StringComparison.OrdinalIgnoreCase));
            var lengthHeader = headers.FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var status = head[0];
            var bodyless = headRequest || status.Contains(" 204 ", StringComparison.Ordinal) || status.Contains(" 304 ", StringComparison.Ordinal) || status.Contains(" 1", StringComparison.Ordinal) && status.Split(' ')[1].StartsWith('1');
            var body = new MemoryStream();
            string framing;
            bool complete;
            if (bodyless)
            {
                framing = "none";
                complete = true;
            }
            else if (chunked)
            {
                framing = "chunked";
                complete = ReadChunked(ref bytes, body);
            }
            else if (lengthHeader is not null)
            {
                framing = "length";
                var length = long.Parse(lengthHeader["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                var take = (int)Math.Min(length, bytes.Length);
                body.Write(bytes[..take]);
                bytes = bytes[take..];
                complete = take == length;
            }
            else
            {
                framing = "close";
                body.Write(bytes);
                bytes = [];
                complete = transcript.Ending == "closed";
            }

            text.Append(CultureInfo.InvariantCulture, $"{status} | {string.Join("; ", headers)} | {framing} | {(complete ? "complete" : "incomplete")} | {Encoding.Latin1.GetString(body.ToArray())}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"then {bytes.Length} bytes, {transcript.Ending}");
        return text.ToString();
    }

    private static bool ReadChunked(ref ReadOnlySpan<byte> bytes, MemoryStream body)
    {
        while (true)
        {
            var line = bytes.IndexOf("\r\n"u8);
            if (line < 0)
            {
                return false;
            }

            var sizeText = Encoding.ASCII.GetString(bytes[..line]).Split(';')[0];
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size))
            {
                return false;
            }

            bytes = bytes[(line + 2)..];
            if (size == 0)
            {
                var trailerEnd = bytes.IndexOf("\r\n"u8);
                if (trailerEnd < 0)
                {
                    return false;
                }

                bytes = bytes[(trailerEnd + 2)..];
                return true;
            }

            if (bytes.Length < size + 2)
            {
                body.Write(bytes[..Math.Min(size, bytes.Length)]);
                bytes = [];
                return false;
            }

            body.Write(bytes[..size]);
            bytes = bytes[(size + 2)..];
        }
    }
}
