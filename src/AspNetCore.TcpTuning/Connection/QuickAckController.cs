using System.Net.Sockets;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Watches one connection's input for the moment a peer may be waiting for the server's ACK: it re-arms TCP_QUICKACK
/// there (Linux leaves quick-ACK mode on its own, so a single setsockopt at accept does not last; re-arming sends a
/// pending delayed ACK at once), and it tells whether bytes that arrived after such a moment had waited for one.
/// </summary>
/// <remarks>
/// The moment: the server is about to wait for more input although it has examined everything it received and written
/// nothing since. The message is incomplete, and a client held back by Nagle's algorithm may be waiting for exactly that
/// ACK. Requests that arrive whole never reach it, so they cost no syscall.
/// </remarks>
internal sealed class QuickAckController
{
    private static readonly SocketOptionSetting s_quickAck = new(TcpOption.QuickAck, 1);

    private readonly Socket _socket;
    private readonly SocketOptionWriter _writer;
    private readonly TcpTuningMetrics _metrics;
    private readonly string? _endpointName;
    private readonly bool _afterEachRead;
    private readonly bool _beforeWaiting;
    private readonly DelayedAckStallDetector? _stallDetector;
    private readonly DelayedAckStallReporter? _stallReporter;
    private readonly TcpPlatform _platform;
    private bool _examinedAll;
    // Written by the output side, read by the input side; a stale value costs one re-arm more or less, never correctness.
    private volatile bool _wroteSinceRead;
    private bool _wroteOnce;
    private long _rearms;

    public QuickAckController(Socket socket, QuickAckMode mode, SocketOptionWriter writer, TcpTuningMetrics metrics, string? endpointName = null)
        : this(socket, mode, writer, metrics, endpointName, stallReporter: null, TimeProvider.System, TcpPlatform.Current)
    {
    }

    /// <param name="socket">The connection's socket.</param>
    /// <param name="mode">When to re-arm: <see cref="QuickAckMode.Adaptive"/> or <see cref="QuickAckMode.AfterEachRead"/>; never otherwise.</param>
    /// <param name="writer">Sets the option.</param>
    /// <param name="metrics">Counts re-arms.</param>
    /// <param name="endpointName">The connection's endpoint.</param>
    /// <param name="stallReporter">Counts and reports delayed-ACK stalls, or <see langword="null"/> when they are not detected.</param>
    /// <param name="timeProvider">Times the reads, for the stall detector.</param>
    /// <param name="platform">Reads the server's ACK delay.</param>
    public QuickAckController(Socket socket, QuickAckMode mode, SocketOptionWriter writer, TcpTuningMetrics metrics, string? endpointName, DelayedAckStallReporter? stallReporter, TimeProvider timeProvider, TcpPlatform platform)
    {
        _socket = socket;
        _writer = writer;
        _metrics = metrics;
        _endpointName = endpointName;
        _afterEachRead = mode == QuickAckMode.AfterEachRead;
        _beforeWaiting = mode == QuickAckMode.Adaptive;
        _stallDetector = stallReporter is null ? null : new DelayedAckStallDetector(timeProvider);
        _stallReporter = stallReporter;
        _platform = platform;
    }

    /// <summary>How many times TCP_QUICKACK was re-armed on this connection.</summary>
    public long Rearms => Volatile.Read(ref _rearms);

    /// <summary>The reader is about to wait for input.</summary>
    public void OnReading()
    {
        if (!_examinedAll || _wroteSinceRead)
        {
            return;
        }

        if (_beforeWaiting)
        {
            Rearm();
        }

        // Not before the first response: the first exchange's reads wait on a cold server (JIT, first thread-pool
        // dispatches) more than on the wire, and Linux quick-ACKs a new connection's first segments anyway.
        if (_stallDetector is not null && _wroteOnce)
        {
            var estimate = AckDelayEstimate.Of(_socket, _platform);
            _stallDetector.OnWaitingMidMessage(estimate.AckDelay, estimate.RoundTrip);
        }
    }

    /// <summary>A read returned data.</summary>
    public void OnRead()
    {
        _wroteSinceRead = false;
        if (_afterEachRead)
        {
            Rearm();
        }

        if (_stallDetector?.OnArrived() is { } stall)
        {
            _stallReporter!.OnStall(stall);
        }
    }

    /// <summary>The reader released a buffer; <paramref name="examinedAll"/> when it looked at every byte it had.</summary>
    public void OnAdvanced(bool examinedAll) => _examinedAll = examinedAll;

    /// <summary>The connection wrote output.</summary>
    public void OnWrite()
    {
        _wroteSinceRead = true;
        _wroteOnce = true;
    }

    private void Rearm()
    {
        Interlocked.Increment(ref _rearms);
        var error = _writer.TrySet(_socket, s_quickAck);
        _metrics.QuickAckRearmed(_endpointName, error);
    }
}
