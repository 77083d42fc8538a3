using Microsoft.AspNetCore.Http;

namespace AspNetCore.TcpTuning.Http;

/// <summary>The table from a response's facts to its <see cref="ResponseFlushDecision"/>.</summary>
internal static class ResponseFlushDecider
{
    /// <summary>Decides for a response about to start.</summary>
    /// <param name="mode">The mode of the route, else of the endpoint.</param>
    /// <param name="statusCode">The response's status.</param>
    /// <param name="contentType">The response's Content-Type, if any.</param>
    /// <param name="isHead">Whether the request is HEAD (Kestrel drops the body).</param>
    public static ResponseFlushDecision Decide(ResponseFlushMode mode, int statusCode, string? contentType, bool isHead)
    {
        // Server-sent events are a stream of messages: each write is one and must leave at once.
        if (contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return ResponseFlushDecision.Stream;
        }

        if (mode != ResponseFlushMode.MessageBoundary)
        {
            return ResponseFlushDecision.PassThrough;
        }

        // No body to hold: Kestrel must see every write as it comes, to throw or drop it as it would.
        return HasNoBody(statusCode, isHead) ? ResponseFlushDecision.PassThrough : ResponseFlushDecision.Hold;
    }

    /// <summary>A response without a body (HEAD, 1xx, 204, 205, 304): its headers are the whole message.</summary>
    public static bool HasNoBody(int statusCode, bool isHead)
        => isHead || statusCode is StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified || statusCode < StatusCodes.Status200OK;
}
