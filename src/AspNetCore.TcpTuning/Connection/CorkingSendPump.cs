using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// Owns the send side of a connection whose endpoint has <c>Cork</c> on: everything the connection writes (HTTP, or
/// TLS records beneath it) goes through this pump, which issues the sends itself, so the cork can be set and cleared
/// exactly around them. A message is corked from its second send (a message that leaves in one send is never corked)
/// to the send that carries its last byte, and released right after it.
/// </summary>
/// <remarks>
/// The HTTP layer marks where messages begin and end through <see cref="ITcpCorkControl"/>; nothing is corked outside
/// a message (TLS handshakes, HTTP/2, upgraded connections). If an end is never marked, <see cref="CorkReleaser"/>
/// releases the cork after <see cref="SafetyDelay"/>, and that is counted. Kestrel's own sender is left waiting on its
/// pipe and is completed when this pump ends, so it shuts the socket down as it always does.
/// </remarks>
internal sealed class CorkingSendPump : ITcpCorkControl
{
    /// <summary>How long a cork may hold bytes without a marked end before it is released.</summary>
    public static readonly TimeSpan SafetyDelay = TimeSpan.FromMilliseconds(10);

    private static readonly SocketOptionSetting s_cork = new(TcpOption.Cork, 1);
    private static readonly SocketOptionSetting s_uncork = new(TcpOption.Cork, 0);

    private readonly Socket _socket;
    private readonly PipeWriter _transportOutput;
    private readonly Pipe _pipe;
    private readonly SocketOptionWriter _options;
    private readonly TcpTuningMetrics _metrics;
    private readonly CorkReleaser _releaser;
    private readonly TimeProvider _timeProvider;
    private readonly List<ArraySegment<byte>> _segments = [];

    // Written on the connection's writing side, read by the pump.
    private long _written;
    private long _messageEnd = -1;
    private volatile bool _inMessage;
    private volatile bool _endAtNextFlush;
    private volatile bool _releaseRequested;
    private volatile bool _watched;

    // The pump's own state.
    private long _sent;
    private int _sendsInMessage;
    private bool _corked;
    private long _corkedSince; // when the cork was set or last let a send through; 0 when not corked

    public CorkingSendPump(Socket socket, PipeWriter transportOutput, long maxBufferedBytes, SocketOptionWriter options, TcpTuningMetrics metrics, CorkReleaser releaser, TimeProvider timeProvider, QuickAckController? quickAck = null)
    {
        QuickAck = quickAck;
        _socket = socket;
        _transportOutput = transportOutput;
        _options = options;
        _metrics = metrics;
        _releaser = releaser;
        _timeProvider = timeProvider;
        // Kestrel's MaxWriteBufferSize (null: unlimited) bounds this pipe as it bounds Kestrel's own.
        var pause = Math.Max(0, maxBufferedBytes);
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, useSynchronizationContext: false));
        Output = new CorkingPipeWriter(_pipe.Writer, this);
    }

    /// <summary>The connection's QuickAck controller, told about writes by <see cref="CorkingPipeWriter"/>.</summary>
    internal QuickAckController? QuickAck { get; }

    /// <summary>The connection's output, to install as <c>Transport.Output</c>.</summary>
    public PipeWriter Output { get; }

    /// <summary>Whether the socket is corked now.</summary>
    private bool IsCorked => Volatile.Read(ref _corkedSince) != 0;

    /// <summary>Whether the cork has held bytes for <see cref="SafetyDelay"/> since the last send.</summary>
    private bool CorkedTooLong => Volatile.Read(ref _corkedSince) is var since && since != 0 && _timeProvider.GetElapsedTime(since) >= SafetyDelay;

    /// <summary>Completes when the pump has sent everything and handed the connection's end to Kestrel's sender.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    /// <inheritdoc />
    public void BeginMessage() => _inMessage = true;

    /// <inheritdoc />
    public void EndMessage(bool atNextFlush)
    {
        if (atNextFlush)
        {
            _endAtNextFlush = true;
            return;
        }

        MarkEnd();
        if (Volatile.Read(ref _corkedSince) != 0)
        {
            // Everything of the message may be sent already, under the cork: wake the pump to release it now.
            _pipe.Reader.CancelPendingRead();
        }
    }

    /// <summary>Called by <see cref="CorkReleaser"/>: asks the pump to release a cork idle too long. Returns whether to keep watching.</summary>
    internal bool OnSweep()
    {
        if (CorkedTooLong)
        {
            _releaseRequested = true;
            _pipe.Reader.CancelPendingRead();
        }
        else if (IsCorked)
        {
            return true;
        }

        _watched = false;
        return false;
    }

    internal void OnAdvanced(long bytes)
    {
        Volatile.Write(ref _written, _written + bytes);
        QuickAck?.OnWrite();
    }

    internal void OnFlushing()
    {
        if (_endAtNextFlush)
        {
            _endAtNextFlush = false;
            MarkEnd();
        }
    }

    private void MarkEnd()
    {
        Volatile.Write(ref _messageEnd, Volatile.Read(ref _written));
        _inMessage = false;
    }

    private async Task RunAsync()
    {
        Exception? error = null;
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await SendAsync(buffer).ConfigureAwait(false);
                }

                ReleaseIfDue();
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // A reset or aborted connection: Kestrel sees it through the completed pipes, as with its own sender.
            error = ex;
        }
        finally
        {
            if (_corked)
            {
                SetCork(false);
            }

            await reader.CompleteAsync(error).ConfigureAwait(false);
            await _transportOutput.CompleteAsync(error is null or SocketException or ObjectDisposedException ? null : error).ConfigureAwait(false);
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        var end = _sent + buffer.Length;
        var messageEnd = Volatile.Read(ref _messageEnd);
        var endUnsent = messageEnd > _sent;
        var containsEnd = endUnsent && messageEnd <= end;

        // Cork from a message's second send, when neither this send nor an earlier message's tail ends in it.
        if (!_corked && _inMessage && !endUnsent && _sendsInMessage >= 1)
        {
            SetCork(true);
            _metrics.Corked();
        }

        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
        }
        else
        {
            _segments.Clear();
            foreach (var segment in buffer)
            {
                _segments.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
            }

            await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
        }

        _sent = end;
        if (containsEnd)
        {
            // Bytes after the end belong to the next message and were its first send.
            _sendsInMessage = messageEnd < end ? 1 : 0;
            if (_corked)
            {
                SetCork(false);
            }
        }
        else
        {
            _sendsInMessage++;
            if (_corked)
            {
                // The safety net counts from the last send: a message still being produced keeps its cork.
                Volatile.Write(ref _corkedSince, _timeProvider.GetTimestamp());
                if (!_watched)
                {
                    _watched = true;
                    _releaser.Watch(this);
                }
            }
        }
    }

    private void ReleaseIfDue()
    {
        if (!_corked)
        {
            _releaseRequested = false;
            return;
        }

        // The end was marked with nothing left to send, or the safety net asked.
        if (!_inMessage && Volatile.Read(ref _messageEnd) <= _sent)
        {
            SetCork(false);
        }
        else if (_releaseRequested)
        {
            // Counted before the release, so whoever sees the bytes also sees the count.
            _metrics.CorkSafetyReleased();
            SetCork(false);
        }

        _releaseRequested = false;
    }

    private void SetCork(bool corked)
    {
        if (_options.TrySet(_socket, corked ? s_cork : s_uncork) is { } error)
        {
            _metrics.SocketOptionFailed("Cork", error);
        }

        _corked = corked;
        Volatile.Write(ref _corkedSince, corked ? _timeProvider.GetTimestamp() : 0);
    }
}
