using System.Net.Sockets;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Decides when to re-arm TCP_QUICKACK on one connection. Linux leaves quick-ACK mode on its own, so a single
/// setsockopt at accept does not last; re-arming makes the kernel send a pending delayed ACK at once.
/// </summary>
/// <remarks>
/// <see cref="QuickAckMode.Adaptive"/> re-arms only when the server is about to wait for more input although it has
/// examined everything it received and written nothing since: the request is incomplete, and a client held back by
/// Nagle's algorithm may be waiting for exactly that ACK. Requests that arrive whole never reach that state, so they
/// cost no syscall.
/// </remarks>
internal sealed class QuickAckController
{
    private static readonly SocketOptionSetting s_quickAck = new(TcpOption.QuickAck, 1);

    private readonly Socket _socket;
    private readonly SocketOptionWriter _writer;
    private readonly TcpTuningMetrics _metrics;
    private readonly string? _endpointName;
    private readonly bool _afterEachRead;
    private bool _examinedAll;
    // Written by the output side, read by the input side; a stale value costs one re-arm more or less, never correctness.
    private volatile bool _wroteSinceRead;
    private long _rearms;

    public QuickAckController(Socket socket, QuickAckMode mode, SocketOptionWriter writer, TcpTuningMetrics metrics, string? endpointName = null)
    {
        _socket = socket;
        _writer = writer;
        _metrics = metrics;
        _endpointName = endpointName;
        _afterEachRead = mode == QuickAckMode.AfterEachRead;
    }

    /// <summary>How many times TCP_QUICKACK was re-armed on this connection.</summary>
    public long Rearms => Volatile.Read(ref _rearms);

    /// <summary>The reader is about to wait for input.</summary>
    public void OnReading()
    {
        if (!_afterEachRead && _examinedAll && !_wroteSinceRead)
        {
            Rearm();
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
    }

    /// <summary>The reader released a buffer; <paramref name="examinedAll"/> when it looked at every byte it had.</summary>
    public void OnAdvanced(bool examinedAll) => _examinedAll = examinedAll;

    /// <summary>The connection wrote output.</summary>
    public void OnWrite() => _wroteSinceRead = true;

    private void Rearm()
    {
        Interlocked.Increment(ref _rearms);
        var error = _writer.TrySet(_socket, s_quickAck);
        _metrics.QuickAckRearmed(_endpointName, error);
    }
}
