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
    private readonly CorkReleaser? _corkReleaser;
    private readonly TimeProvider _timeProvider;
    private readonly long _maxWriteBufferSize;
    private readonly DelayedAckStallReporter.Registry? _stallReporters;
    private readonly TcpPlatform _platform;

    public TcpConnectionTuner(SocketOptionWriter writer, TcpTuningMetrics metrics, ILogger<TcpConnectionTuner> logger)
        : this(writer, metrics, logger, corkReleaser: null, TimeProvider.System, maxWriteBufferSize: 64 * 1024, stallReporters: null, TcpPlatform.Current)
    {
    }

    public TcpConnectionTuner(SocketOptionWriter writer, TcpTuningMetrics metrics, ILogger<TcpConnectionTuner> logger, CorkReleaser? corkReleaser, TimeProvider timeProvider, long maxWriteBufferSize, DelayedAckStallReporter.Registry? stallReporters, TcpPlatform platform)
    {
        _stallReporters = stallReporters;
        _platform = platform;
        _writer = writer;
        _metrics = metrics;
        _logger = logger;
        _corkReleaser = corkReleaser;
        _timeProvider = timeProvider;
        _maxWriteBufferSize = maxWriteBufferSize;
    }

    /// <returns>The connection to hand to Kestrel: <paramref name="connection"/>, or a wrapper when a cork pump owns its sends.</returns>
    public ConnectionContext OnAccepted(ConnectionContext connection, EffectiveTcpProfile profile)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || connection.LocalEndPoint is not IPEndPoint)
        {
            return connection;
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
            TcpTuningLog.SocketOptionFailed(_logger, profile.KeyOf(setting), connection.ConnectionId, error);
            _metrics.SocketOptionFailed(profile.EndpointName, profile.AcceptKeys[i], error);
        }

        // The input watch: re-arms QuickAck, and tells delayed-ACK stalls apart (which also counts where QuickAck is off).
        var stallReporter = profile.DetectStalls ? _stallReporters?.For(profile) : null;
        QuickAckController? quickAck = profile.QuickAck is QuickAckMode.AfterEachRead or QuickAckMode.Adaptive || stallReporter is not null
            ? new QuickAckController(socket, profile.QuickAck, _writer, _metrics, profile.EndpointName, stallReporter, _timeProvider, _platform)
            : null;

        // The per-connection histograms, only while someone listens to them: a TCP_INFO read as Kestrel disposes the connection.
        var closeRecorder = _metrics.RecordsConnectionClose ? new ConnectionCloseRecorder(socket, _metrics, profile.EndpointName) : null;

        // Cork: this connection's sends go through a pump of ours, which holds partial segments within a message
        // (innermost, beneath TLS). Its writer also tells the QuickAck controller about writes: one output wrapper.
        CorkingSendPump? cork = null;
        if ((quickAck is not null || profile.Cork) && connection.Transport is { } transport)
        {
            var input = transport.Input;
            var output = transport.Output;
            if (profile.Cork && _corkReleaser is not null)
            {
                // Kestrel's own block pool: renting from it allocates nothing (MemoryPool<byte>.Shared allocates an owner
                // per block, and held blocks outlive a gen0 collection).
                var pool = connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool;
                cork = new CorkingSendPump(socket, output, _maxWriteBufferSize, HoldBound.Effective(profile.ResponseFlush.MaxFlushDelay), _metrics, _corkReleaser, _timeProvider, quickAck, pool, profile.EndpointName);
                output = cork.Output;
            }
            else if (quickAck is not null)
            {
                output = new WriteObservingPipeWriter(output, quickAck);
            }

            if (quickAck is not null)
            {
                input = new QuickAckPipeReader(input, quickAck);
            }

            connection.Transport = new TunedDuplexPipe(input, output);
        }

        var feature = new TcpTuningConnectionFeature(profile, applied ?? profile.AcceptKeys, failed ?? [], quickAck, cork, socket, closeRecorder, connection.Features);
        connection.Features.Set<ITcpTuningFeature>(feature);
        connection.Features.Set<ITcpInfoFeature>(feature);
        _metrics.ConnectionTuned(profile.EndpointName);
        if (cork is null)
        {
            return closeRecorder is null ? connection : new RecordingConnectionContext(connection, closeRecorder);
        }

        cork.Start();
        return new PumpedConnectionContext(connection, cork, closeRecorder);
    }
}
