using System.Net;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>
/// Kestrel's socket transport with per-endpoint TCP settings: listen-socket options at bind, accept-time options on
/// every accepted socket before Kestrel dispatches the connection (so before any TLS handshake or HTTP parsing).
/// </summary>
/// <remarks>Registered last, so Kestrel, which tries the most recently registered factory first, binds TCP endpoints with it.</remarks>
internal sealed class TcpTuningConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportFactory _inner;
    private readonly EndpointProfileResolver _resolver;
    private readonly CodeProfileHandoff _handoff;
    private readonly ListenSocketTuner _listenSocketTuner;
    private readonly TcpConnectionTuner _connectionTuner;
    private readonly TcpPlatform _platform;
    private readonly TcpTuningOptionsState _state;
    private readonly ILogger _logger;

    public TcpTuningConnectionListenerFactory(
        IOptions<SocketTransportOptions> transportOptions,
        ILoggerFactory loggerFactory,
        EndpointProfileResolver resolver,
        CodeProfileHandoff handoff,
        ListenSocketTuner listenSocketTuner,
        TcpConnectionTuner connectionTuner,
        TcpPlatform platform,
        TcpTuningOptionsState state)
    {
        _state = state;
        _inner = new SocketTransportFactory(transportOptions, loggerFactory);
        _resolver = resolver;
        _handoff = handoff;
        _listenSocketTuner = listenSocketTuner;
        _connectionTuner = connectionTuner;
        _platform = platform;
        _logger = loggerFactory.CreateLogger<TcpTuningConnectionListenerFactory>();
    }

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => _inner.CanBind(endpoint);

    /// <inheritdoc />
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        // Always take the handoff, so settings offered for this bind never leak into the next one.
        var codeProfile = _handoff.Take();
        if (endpoint is not IPEndPoint)
        {
            // Unix-domain sockets and inherited handles carry no TCP.
            return await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }

        _state.EnsureCurrent();
        var name = codeProfile is null ? _resolver.NameOf(endpoint) : null;
        var profile = _resolver.ProfileOf(name, codeProfile, endpoint);
        foreach (var key in profile.UnsupportedKeys)
        {
            TcpTuningLog.OptionNotSupported(_logger, key, _platform.Name, endpoint);
        }

        IConnectionListener listener;
        using (_listenSocketTuner.Begin(profile))
        {
            listener = await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }

        TcpTuningLog.EndpointBound(
            _logger,
            listener.EndPoint,
            profile.KeyPrefix,
            profile.Describe(),
            string.Join(", ", profile.UnsupportedKeys));
        return new TcpTuningConnectionListener(listener, new EndpointIdentity(name, codeProfile, endpoint), profile, _resolver, _state, _connectionTuner);
    }
}
