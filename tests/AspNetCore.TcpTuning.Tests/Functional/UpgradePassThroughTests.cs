using System.Net;
using System.Net.WebSockets;
using System.Text;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// Upgraded requests (WebSockets over HTTP/1.1) and extended CONNECT (WebSockets over HTTP/2) keep Kestrel's own
/// response body on a <c>MessageBoundary</c> endpoint and work end to end; an ordinary request on the same endpoint
/// gets the policy's body (the control: without the pass-through the WebSocket handler would see it too).
/// </summary>
public sealed class UpgradePassThroughTests
{
    private const string Http1Host = "127.0.0.81";
    private const string Http2Host = "127.0.0.82";
    private const string PolicyBody = "MessageBoundaryResponseBodyFeature";

    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Http1:Url"] = $"http://{Http1Host}:0",
        ["Kestrel:Endpoints:Http1:Protocols"] = "Http1",
        ["Kestrel:Endpoints:Http2:Url"] = $"http://{Http2Host}:0",
        ["Kestrel:Endpoints:Http2:Protocols"] = "Http2",
    };

    [Theory]
    [InlineData(Http1Host, "1.1")]
    [InlineData(Http2Host, "2.0")]
    public async Task WebSocket_KeepsKestrelsBodyAndEchoes_WhileOrdinaryRequestsGetThePolicy(string host, string version)
    {
        await using var server = await TuningTestServer.StartAsync(s_settings, map: Map);
        var address = server.AddressOn(host);
        var httpVersion = Version.Parse(version);
        using var handler = new SocketsHttpHandler();
        using var invoker = new HttpMessageInvoker(handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, "/body-feature")) { Version = httpVersion, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(PolicyBody, await response.Content.ReadAsStringAsync());

        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = httpVersion;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new UriBuilder(address) { Scheme = "ws", Path = "/ws" }.Uri, invoker, timeout.Token);

        var seen = await ReceiveTextAsync(socket, timeout.Token);
        Assert.NotEqual(PolicyBody, seen);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        Assert.Equal("hello", await ReceiveTextAsync(socket, timeout.Token));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }

    private static void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet("/body-feature", (HttpContext context) => context.Features.Get<IHttpResponseBodyFeature>()!.GetType().Name);
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            // The body feature as the handler sees it, read before the upgrade replaces it.
            var body = context.Features.Get<IHttpResponseBodyFeature>()!.GetType().Name;
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await socket.SendAsync(Encoding.UTF8.GetBytes(body), WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
            var buffer = new byte[256];
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
            var close = await socket.ReceiveAsync(buffer, context.RequestAborted);
            await socket.CloseAsync(close.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
        });
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        Assert.True(result.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
