using System.Globalization;
using System.Text;

namespace TcpTuning.Reliability.Wire;

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
        while (TryDecode(bytes, headRequest, transcript.Ending == "closed", out var response, out var consumed))
        {
            text.Append(response).Append('\n');
            bytes = bytes[consumed..];
            if (!response.Complete)
            {
                break;
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"then {bytes.Length} bytes, {transcript.Ending}");
        return text.ToString();
    }

    /// <summary>Whether <paramref name="bytes"/> start with a whole response (headers and all of its body).</summary>
    public static bool HasCompleteResponse(ReadOnlySpan<byte> bytes, bool headRequest)
        => TryDecode(bytes, headRequest, closed: false, out var response, out _) && response.Complete;

    /// <summary>Decodes the first response in <paramref name="bytes"/>, whole or not, once its headers are in.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, bool headRequest, bool closed, out DecodedResponse response, out int consumed)
    {
        response = null!;
        consumed = 0;
        var end = bytes.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }

        var head = Encoding.Latin1.GetString(bytes[..end]).Split("\r\n");
        var rest = bytes[(end + 4)..];
        var headers = head.Skip(1)
            .Where(h => !h.StartsWith("Date:", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var chunked = headers.Any(h => h.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && h.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        var lengthHeader = headers.FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var status = head[0];
        var code = status.Split(' ').ElementAtOrDefault(1) ?? string.Empty;
        var bodyless = headRequest || code is "204" or "304" || code.StartsWith('1');
        var body = new MemoryStream();
        var before = rest.Length;
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
            complete = ReadChunked(ref rest, body);
        }
        else if (lengthHeader is not null)
        {
            framing = "length";
            var length = long.Parse(lengthHeader["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            var take = (int)Math.Min(length, rest.Length);
            body.Write(rest[..take]);
            rest = rest[take..];
            complete = take == length;
        }
        else
        {
            framing = "close";
            body.Write(rest);
            rest = [];
            complete = closed;
        }

        consumed = end + 4 + (before - rest.Length);
        response = new DecodedResponse(status, string.Join("; ", headers), framing, complete, body.ToArray());
        return true;
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

            if (size == 0)
            {
                var trailerEnd = bytes[(line + 2)..].IndexOf("\r\n"u8);
                if (trailerEnd < 0)
                {
                    return false;
                }

                bytes = bytes[(line + 2 + trailerEnd + 2)..];
                return true;
            }

            if (bytes.Length < line + 2 + size + 2)
            {
                var available = bytes[(line + 2)..];
                body.Write(available[..Math.Min(size, available.Length)]);
                bytes = bytes[(line + 2 + Math.Min(size, available.Length))..];
                return false;
            }

            body.Write(bytes.Slice(line + 2, size));
            bytes = bytes[(line + 2 + size + 2)..];
        }
    }
}

/// <summary>One decoded HTTP/1.1 response.</summary>
public sealed record DecodedResponse(string StatusLine, string Headers, string Framing, bool Complete, byte[] Body)
{
    public override string ToString()
        => $"{StatusLine} | {Headers} | {Framing} | {(Complete ? "complete" : "incomplete")} | {Body.Length} bytes {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Body))[..16]}";
}
