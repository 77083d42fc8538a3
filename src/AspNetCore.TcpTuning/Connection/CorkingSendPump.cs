using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Infrastructure;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Owns the sends of a connection on a <c>Cork</c> endpoint (HTTP, or TLS records beneath it): inside a message it sends
/// whole segments and holds the partial rest until the message ends, is pushed, the peer is awaited or the hold bound
/// passes. TCP_CORK's effect without its syscalls (docs/design.md says why; the message marks come through
/// <see cref="ITcpCorkControl"/>). Kestrel's own sender waits on its pipe and is completed when the pump ends.
/// </summary>
internal sealed partial class CorkingSendPump : ITcpCorkControl
{
    /// <summary>
    /// Inside a message, whole segments leave once at least this many are ready: each send runs the transmit path on
    /// the sending CPU, so fewer, larger sends cost less (docs/design.md). The end never waits for it.
    /// </summary>
    internal const int MinimumSegmentsPerSend = 8;

    // The reasons of tcp_tuning.cork.release.
    private const string ReleaseReasonBound = "bound";
    private const string ReleaseReasonAbort = "abort";

    private readonly Socket _socket;
    private readonly string? _endpointName;
    private readonly PipeWriter _transportOutput;
    private readonly Pipe _pipe;
    private readonly TcpTuningMetrics _metrics;
    private readonly CorkReleaser _releaser;
    private readonly TimeProvider _timeProvider;
    private readonly long _holdBoundTicks;

    // A pipe's backpressure counts only bytes its reader has not examined, and held bytes have been: nothing would stop
    // the pump from holding a whole response while it waits for segments to fill (64 KiB ones on loopback). It holds
    // at most half of the write buffer that Kestrel's own sender would allow.
    private readonly long _holdLimit;

    // Written on the connection's writing side, read by the pump.
    private long _written;
    private long _messageEnd = -1;
    private volatile bool _inMessage;
    private volatile bool _endAtNextFlush;
    // Set by a push, until the message ends: nothing more of it is held.
    private volatile bool _pushed;
    private volatile bool _releaseRequested;
    // Set when the app waits for the peer, until the pump next sends or the next message begins: nothing is held meanwhile.
    private volatile bool _peerWaiting;
    private volatile bool _watched;

    // Set by an abort that waits for the bytes the pump owes; completed by the pump after its next send, or at its end.
    private TaskCompletionSource? _heldSent;

    // Set by the pump while it holds bytes (when it began to), 0 otherwise; read by the writing side and the safety net.
    private long _heldSince;

    // The pump's own state.
    private long _sent;
    private int _segmentSize = -1; // -1: to be read for the current message
    private bool _heldInMessage;

    /// <param name="socket">The connection's socket, which the pump sends on.</param>
    /// <param name="transportOutput">Kestrel's own output, completed when the pump ends.</param>
    /// <param name="maxBufferedBytes">Kestrel's MaxWriteBufferSize (0 or less: unlimited).</param>
    /// <param name="holdBound">How long a byte may be held at most (the endpoint's effective <c>MaxFlushDelay</c>).</param>
    /// <param name="metrics">The library's instruments.</param>
    /// <param name="releaser">The server-wide timer that enforces the bound.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="quickAck">The connection's QuickAck controller, told about writes, or null.</param>
    /// <param name="pool">Kestrel's block pool for the pump's pipe, or null for the shared one.</param>
    /// <param name="endpointName">The endpoint's name, for the instruments.</param>
    public CorkingSendPump(Socket socket, PipeWriter transportOutput, long maxBufferedBytes, TimeSpan holdBound, TcpTuningMetrics metrics, CorkReleaser releaser, TimeProvider timeProvider, QuickAckController? quickAck = null, MemoryPool<byte>? pool = null, string? endpointName = null)
    {
        _endpointName = endpointName;
        _holdBoundTicks = DeadlineSweeper<CorkingSendPump>.ToTimestampTicks(timeProvider, holdBound);
        QuickAck = quickAck;
        _socket = socket;
        _transportOutput = transportOutput;
        _metrics = metrics;
        _releaser = releaser;
        _timeProvider = timeProvider;
        // Kestrel's MaxWriteBufferSize (null: unlimited) bounds this pipe as it bounds Kestrel's own.
        var pause = Math.Max(0, maxBufferedBytes);
        _holdLimit = pause > 0 ? pause / 2 : long.MaxValue;
        // The pump wakes like Kestrel's own senders, in batches (SendScheduler), not one thread-pool item per flush;
        // a wake that would only hold again runs inline.
        _pipe = new Pipe(new PipeOptions(pool, readerScheduler: new CorkingPumpScheduler(this, SendScheduler.Next()), pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, minimumSegmentSize: pool?.MaxBufferSize is > 0 and var size ? size : -1, useSynchronizationContext: false));
        Output = new CorkingPipeWriter(_pipe.Writer, this);
    }

    /// <summary>The connection's QuickAck controller, told about writes by <see cref="CorkingPipeWriter"/>.</summary>
    internal QuickAckController? QuickAck { get; }

    /// <summary>The connection's output, to install as <c>Transport.Output</c>.</summary>
    public PipeWriter Output { get; }

    /// <summary>Completes when the pump has sent everything and handed the connection's end to Kestrel's sender.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    private async Task RunAsync()
    {
        Exception? error = null;
        var reader = _pipe.Reader;
        var sender = new CorkSocketSender();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var sendable = result.IsCompleted ? buffer.Length : SendableLength(buffer.Length);
                if (sendable > 0)
                {
                    if (!await TrySendAsync(sender, buffer.Slice(0, sendable)).ConfigureAwait(false))
                    {
                        break;
                    }

                    SignalHeldSent();
                }

                // What is held stays unconsumed; having examined it all, the next read waits for more, or for a wake-up.
                reader.AdvanceTo(buffer.GetPosition(sendable), buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException)
        {
            // Unexpected: the writers see it, as they see an unexpected error of Kestrel's own sender.
            error = ex;
        }
        finally
        {
            // Nothing is held once the pump stops (sent, or lost with the connection): the releaser lets it go.
            StopHolding();
            SignalHeldSent();
            sender.Dispose();
            await reader.CompleteAsync(error).ConfigureAwait(false);
            await _transportOutput.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends <paramref name="buffer"/>; false when the connection has ended under the send. A reset goes to Kestrel's
    /// own sender with the bytes that met it: that sender meets the same error and ends the connection as it would
    /// without the pump (the reset logged at Debug, the connection aborted with a <c>ConnectionResetException</c>),
    /// and the writers here see a completed pipe, not an exception. An aborted connection (the socket disposed under
    /// the send) is Kestrel's doing already.
    /// </summary>
    private async ValueTask<bool> TrySendAsync(CorkSocketSender sender, ReadOnlySequence<byte> buffer)
    {
        SocketError error;
        try
        {
            error = await sender.SendAsync(_socket, buffer).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        if (error != SocketError.Success)
        {
            if (!IsConnectionEnd(error))
            {
                throw new SocketException((int)error);
            }

            foreach (var segment in buffer)
            {
                _transportOutput.Write(segment.Span);
            }

            await _transportOutput.FlushAsync().ConfigureAwait(false);
            return false;
        }

        OnSent(buffer.Length);
        return true;
    }

    // An abort waiting for the held bytes learns they were sent; a plain read first, as no abort waits on most sends.
    private void SignalHeldSent()
    {
        if (Volatile.Read(ref _heldSent) is not null)
        {
            Interlocked.Exchange(ref _heldSent, null)?.TrySetResult();
        }
    }

    // The errors Kestrel's SocketConnection takes for the connection's end (reset, or aborted under the send).
    private static bool IsConnectionEnd(SocketError error)
        => error is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted or SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument;

    private void OnSent(long bytes)
    {
        var end = _sent + bytes;
        var messageEnd = Interlocked.Read(ref _messageEnd);
        if (messageEnd > _sent && messageEnd <= end)
        {
            _segmentSize = -1;
            _heldInMessage = false;
        }

        Volatile.Write(ref _sent, end);
    }
}
