using Microsoft.AspNetCore.Http;

namespace AspNetCore.TcpTuning.Http;

/// <summary>What Kestrel still writes at the end of a response, after the app and this library are done.</summary>
internal static class HttpMessageFraming
{
    /// <summary>An HTTP/1.1 chunked response: Kestrel writes the terminating chunk and flushes it.</summary>
    public static bool IsHttp1Chunked(HttpContext context)
        => HttpProtocol.IsHttp11(context.Request.Protocol)
            && context.Response.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether Kestrel flushes again when the response ends: the terminating chunk, or headers not yet sent.</summary>
    public static bool EndsWithKestrelFlush(HttpContext context) => !context.Response.HasStarted || IsHttp1Chunked(context);
}
