namespace AspNetCore.TcpTuning;

/// <summary>
/// Chooses how one response's body writes are flushed. On <c>HttpContext.Features</c> for every request whose
/// endpoint, or any route, uses <see cref="ResponseFlushMode.MessageBoundary"/> (or whose endpoint has <c>Cork</c>).
/// </summary>
/// <example>
/// A handler that streams progress on an endpoint that holds writes by default:
/// <code>
/// app.MapGet("/progress", async (HttpContext context) =>
/// {
///     context.Features.Get&lt;IResponseFlushFeature&gt;()?.Mode = ResponseFlushMode.PerWrite;
///     foreach (var step in steps)
///     {
///         await context.Response.WriteAsync(step); // each write is sent as it is made
///     }
/// });
/// </code>
/// </example>
public interface IResponseFlushFeature
{
    /// <summary>
    /// The mode of this response: the route's (<see cref="ResponseFlushAttribute"/>, <c>WithResponseFlush</c>), else the
    /// endpoint's, unless set here. Set it before the response's first write; once the response has started, its mode
    /// is fixed and a new value is ignored.
    /// </summary>
    ResponseFlushMode Mode { get; set; }
}
