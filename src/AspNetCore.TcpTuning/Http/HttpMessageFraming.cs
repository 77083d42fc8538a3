using Microsoft.AspNetCore.Http;

namespace AspNetCore.TcpTuning.Http;

/// <summary>What Kestrel still writes at the end of a response, after the app and this library are done.</summary>
internal static class HttpMessageFraming
{
    /// <summary>An HTTP/1.1 chunked response: Kestrel writes the terminating chunk and flushes it.</summary>
    public static bool IsHttp1Chunked(HttpContext context)
        => HttpProtocol.IsHttp11(context.Request.Protocol)
            && context.Response.Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);

    /// <summary>A response without a body (HEAD, 204, 205, 304): its headers are the whole message.</summary>
    public static bool HasNoBody(HttpContext context)
        => HttpMethods.IsHead(context.Request.Method)
            || context.Response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified;

    /// <summary>Whether Kestrel flushes again when the response ends: the terminating chunk, or headers not yet sent.</summary>
    public static bool EndsWithKestrelFlush(HttpContext context) => !context.Response.HasStarted || IsHttp1Chunked(context);
}
