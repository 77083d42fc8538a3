using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace AspNetCore.TcpTuning.Testing;

/// <summary>
/// Runs an app under test on real Kestrel sockets, each of its named endpoints (<c>Kestrel:Endpoints</c>) on a free
/// loopback port, and answers questions about the server's side of a connection from the server's own socket.
/// </summary>
/// <remarks>
/// <code>
/// await using var host = await TcpTuningTestHost.StartAsync(new WebApplicationFactory&lt;Program&gt;());
/// var stall = await WriteWriteReadClient.MeasureAsync(host.Endpoint("Api"), "/upload", 50);
/// </code>
/// </remarks>
public sealed class TcpTuningTestHost : IAsyncDisposable
{
    private static readonly TimeSpan s_acceptTimeout = TimeSpan.FromSeconds(10);

    private readonly IAsyncDisposable _factory;
    private readonly IServiceProvider _services;
    private readonly IReadOnlyDictionary<string, Uri> _endpoints;
    private readonly ServerSockets _sockets;

    private TcpTuningTestHost(IAsyncDisposable factory, IServiceProvider services, IReadOnlyDictionary<string, Uri> endpoints, ServerSockets sockets)
    {
        _factory = factory;
        _services = services;
        _endpoints = endpoints;
        _sockets = sockets;
    }

    /// <summary>The app's named endpoints, by name, as bound.</summary>
    public IReadOnlyDictionary<string, Uri> Endpoints => _endpoints;

    /// <summary>
    /// Starts the app of <paramref name="factory"/> on Kestrel, every named endpoint moved to 127.0.0.1 on a free port
    /// (its scheme kept; an HTTPS endpoint keeps its certificate settings).
    /// </summary>
    /// <typeparam name="TEntryPoint">The app's entry point.</typeparam>
    /// <param name="factory">The app's factory; it stays the caller's to dispose, and can still be configured before this call.</param>
    /// <returns>The running host; disposing it stops the app.</returns>
    public static Task<TcpTuningTestHost> StartAsync<TEntryPoint>(WebApplicationFactory<TEntryPoint> factory)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        var bound = new ConcurrentDictionary<string, (ListenOptions Listen, bool Https)>(StringComparer.OrdinalIgnoreCase);
        var sockets = new ServerSockets();
        var configured = factory.WithWebHostBuilder(builder =>
        {
            builder.ConfigureAppConfiguration((_, configuration) =>
            {
                var endpoints = configuration.Build().GetSection("Kestrel:Endpoints").GetChildren().ToList();
                configuration.AddInMemoryCollection(endpoints.Select(e => KeyValuePair.Create<string, string?>(
                    $"Kestrel:Endpoints:{e.Key}:Url",
                    $"{(IsHttps(e) ? "https" : "http")}://127.0.0.1:0")));
            });
            builder.ConfigureKestrel((context, kestrel) =>
            {
                foreach (var endpoint in context.Configuration.GetSection("Kestrel:Endpoints").GetChildren())
                {
                    var name = endpoint.Key;
                    kestrel.ConfigurationLoader?.Endpoint(name, e =>
                    {
                        bound[name] = (e.ListenOptions, e.IsHttps);
                        e.ListenOptions.Use(sockets.Capture);
                    });
                }
            });
        });
        configured.UseKestrel(_ => { });
        configured.StartServer();

        var endpoints = bound.ToDictionary(
            e => e.Key,
            e => new Uri($"{(e.Value.Https ? "https" : "http")}://{e.Value.Listen.IPEndPoint}"),
            StringComparer.OrdinalIgnoreCase);
        return Task.FromResult(new TcpTuningTestHost(configured, configured.Services, endpoints, sockets));

        static bool IsHttps(IConfigurationSection endpoint)
            => endpoint["Url"]?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true;
    }

    /// <summary>The address of the named endpoint <paramref name="name"/>.</summary>
    /// <param name="name">The name under <c>Kestrel:Endpoints</c>.</param>
    /// <returns>Its base address, e.g. <c>http://127.0.0.1:41234/</c>.</returns>
    /// <exception cref="ArgumentException">The app has no endpoint of that name.</exception>
    public Uri Endpoint(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _endpoints.TryGetValue(name, out var address)
            ? address
            : throw new ArgumentException($"The app has no Kestrel endpoint named '{name}'; its named endpoints are: {(_endpoints.Count == 0 ? "none (configure Kestrel:Endpoints)" : string.Join(", ", _endpoints.Keys.Order(StringComparer.OrdinalIgnoreCase)))}.", nameof(name));
    }

    /// <summary>
    /// Reads an integer socket option of the server's side of a new connection to <paramref name="endpoint"/>: what
    /// the app's settings made of the socket Kestrel accepted.
    /// </summary>
    /// <param name="endpoint">An address from <see cref="Endpoint"/>.</param>
    /// <param name="level">The option's level.</param>
    /// <param name="name">The option.</param>
    /// <param name="cancellationToken">Cancels the wait for the server to accept.</param>
    /// <returns>The option's value on the server's socket.</returns>
    public async Task<int> GetServerSocketOptionAsync(Uri endpoint, SocketOptionLevel level, SocketOptionName name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port), cancellationToken).ConfigureAwait(false);
        var server = await _sockets.WaitForAsync((IPEndPoint)client.LocalEndPoint!, cancellationToken).ConfigureAwait(false);
        return (int)server.GetSocketOption(level, name)!;
    }

    /// <summary>
    /// GETs <paramref name="path"/> once on a new connection and reads, from the server's socket, how the response left.
    /// </summary>
    /// <param name="endpoint">An address from <see cref="Endpoint"/> (<c>http</c> or <c>https</c>).</param>
    /// <param name="path">The path to GET.</param>
    /// <param name="clientMaximumSegmentSize">The MSS the client announces: 1460 (the default) gives an Ethernet path's 1448-byte payloads on loopback; null keeps loopback's.</param>
    /// <param name="certificateValidation">For <c>https</c>: accepts the server's certificate.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The server's data segments, bytes and MSS for the connection.</returns>
    public async Task<ResponseWireStats> MeasureResponseAsync(Uri endpoint, string path, int? clientMaximumSegmentSize = 1460, System.Net.Security.RemoteCertificateValidationCallback? certificateValidation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var client = await WriteWriteReadClient.ConnectAsync(endpoint, noDelay: true, maximumSegmentSize: clientMaximumSegmentSize, certificateValidation: certificateValidation, cancellationToken: cancellationToken).ConfigureAwait(false);
        var server = await _sockets.WaitForAsync((IPEndPoint)client.Socket.LocalEndPoint!, cancellationToken).ConfigureAwait(false);
        var (status, _) = await client.GetAsync(path, cancellationToken).ConfigureAwait(false);
        if (status >= 400)
        {
            throw new HttpRequestException($"GET {path} answered {status}.");
        }

        if (!TcpConnectionInfo.TryRead(server, out var info))
        {
            throw new PlatformNotSupportedException("The server's TCP_INFO cannot be read on this platform.");
        }

        return new ResponseWireStats { DataSegmentsOut = info.DataSegmentsOut, BytesOut = info.BytesSent, SendMaximumSegmentSize = info.SendMaximumSegmentSize };
    }

    /// <summary>
    /// Captures the library's metrics in this app from now until the capture is disposed (the per-connection
    /// histograms too: they are recorded only while something listens, so create the capture before the connections).
    /// </summary>
    /// <returns>The capture.</returns>
    public TcpTuningMetricCapture CaptureMetrics() => new(_services.GetService(typeof(System.Diagnostics.Metrics.IMeterFactory)));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    /// <summary>The server's socket of each accepted connection, by the client's address.</summary>
    private sealed class ServerSockets
    {
        private readonly ConcurrentDictionary<IPEndPoint, TaskCompletionSource<Socket>> _byClient = new();

        public ConnectionDelegate Capture(ConnectionDelegate next) => async connection =>
        {
            if (connection.RemoteEndPoint is IPEndPoint client && connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                Entry(client).TrySetResult(socket);
                try
                {
                    await next(connection).ConfigureAwait(false);
                }
                finally
                {
                    _byClient.TryRemove(client, out _);
                }

                return;
            }

            await next(connection).ConfigureAwait(false);
        };

        public async Task<Socket> WaitForAsync(IPEndPoint client, CancellationToken cancellationToken)
        {
            try
            {
                return await Entry(client).Task.WaitAsync(s_acceptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The server did not accept the connection from {client} within {s_acceptTimeout.TotalSeconds} s.");
            }
        }

        private TaskCompletionSource<Socket> Entry(IPEndPoint client)
            => _byClient.GetOrAdd(client, static _ => new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
