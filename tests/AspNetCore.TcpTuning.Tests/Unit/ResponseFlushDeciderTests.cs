using AspNetCore.TcpTuning.Http;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class ResponseFlushDeciderTests
{
    [Theory]
    [InlineData(ResponseFlushMode.MessageBoundary, 200, null, false, "Hold")]
    [InlineData(ResponseFlushMode.MessageBoundary, 404, "text/plain", false, "Hold")]
    [InlineData(ResponseFlushMode.PerWrite, 200, null, false, "PassThrough")]
    [InlineData(ResponseFlushMode.MessageBoundary, 200, "text/event-stream", false, "Stream")]
    [InlineData(ResponseFlushMode.PerWrite, 200, "TEXT/EVENT-STREAM; charset=utf-8", false, "Stream")]
    [InlineData(ResponseFlushMode.MessageBoundary, 200, null, true, "PassThrough")]
    [InlineData(ResponseFlushMode.MessageBoundary, 204, null, false, "PassThrough")]
    [InlineData(ResponseFlushMode.MessageBoundary, 205, null, false, "PassThrough")]
    [InlineData(ResponseFlushMode.MessageBoundary, 304, null, false, "PassThrough")]
    [InlineData(ResponseFlushMode.MessageBoundary, 101, null, false, "PassThrough")]
    public void Decide_Table(ResponseFlushMode mode, int status, string? contentType, bool isHead, string expected)
        => Assert.Equal(expected, ResponseFlushDecider.Decide(mode, status, contentType, isHead).ToString());
}
