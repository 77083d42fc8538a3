using System.Net;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Applies an endpoint's accept-time options to a newly accepted connection and attaches <see cref="ITcpTuningFeature"/>.
/// </summary>
/// <remarks>
/// Runs on Kestrel's accept loop: it must never throw. A peer that reset the connection while it sat in the backlog
/// makes setsockopt fail; that is logged at debug, counted, and the connection goes on to Kestrel, which closes it as usual.
/// </remarks>
internal sealed class TcpConnectionTuner
{
    private readonly SocketOptionWriter _writer;
    private readonly TcpTuningMetrics _metrics;
    private readonly ILogger _logger;

    public TcpConnectionTuner(SocketOptionWriter writer, TcpTuningMetrics metrics, ILogger<TcpConnectionTuner> logger)
    {
        _writer = writer;
        _metrics = metrics;
        _logger = logger;
    }

    public void OnAccepted(ConnectionContext connection, EffectiveTcpProfile profile)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || connection.LocalEndPoint is not IPEndPoint)
        {
            return;
        }

        List<string>? applied = null;
        List<string>? failed = null;
        var settings = profile.AcceptSettings;
        for (var i = 0; i < settings.Count; i++)
        {
            var setting = settings[i];
            if (_writer.TrySet(socket, setting) is not { } error)
            {
                applied?.Add(profile.AcceptKeys[i]);
                continue;
            }

            // First failure: from here on the shared list of keys no longer describes this connection.
            applied ??= profile.AcceptKeys.Take(i).ToList();
            (failed ??= []).Add(profile.AcceptKeys[i]);
            TcpTuningLog.SocketOptionFailed(_logger, profile.KeyOf(setting.Option), connection.ConnectionId, error);
            _metrics.SocketOptionFailed(profile.AcceptKeys[i], error);
        }

        QuickAckController? quickAck = null;
        if (profile.QuickAck is QuickAckMode.AfterEachRead or QuickAckMode.Adaptive)
        {
            quickAck = new QuickAckController(socket, profile.QuickAck, _writer, _metrics);
            var transport = connection.Transport;
            connection.Transport = new TunedDuplexPipe(
                new QuickAckPipeReader(transport.Input, quickAck),
                new WriteObservingPipeWriter(transport.Output, quickAck));
        }

        connection.Features.Set<ITcpTuningFeature>(new TcpTuningConnectionFeature(profile, applied ?? profile.AcceptKeys, failed ?? [], quickAck));
        _metrics.ConnectionTuned(profile.EndpointName);
    }
}
