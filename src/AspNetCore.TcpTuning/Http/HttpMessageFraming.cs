using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>What Kestrel still writes at the end of a response, after the app and this library are done.</summary>
/// <remarks>Reads the server's features directly, not <c>HttpContext</c>'s cache of them (fetched again after a feature swap).</remarks>
internal static class HttpMessageFraming
{
    /// <summary>An HTTP/1.1 chunked response: Kestrel writes the terminating chunk and flushes it.</summary>
    public static bool IsHttp1Chunked(HttpContext context)
        => HttpProtocol.IsHttp11(((IHttpRequestFeature)context.Features[typeof(IHttpRequestFeature)]!).Protocol)
            && Response(context).Headers.TransferEncoding.ToString().Contains("chunked", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether Kestrel flushes again when the response ends: the terminating chunk, or headers not yet sent.</summary>
    public static bool EndsWithKestrelFlush(HttpContext context) => !Response(context).HasStarted || IsHttp1Chunked(context);

    private static IHttpResponseFeature Response(HttpContext context) => (IHttpResponseFeature)context.Features[typeof(IHttpResponseFeature)]!;
}
