using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The socket send of <see cref="CorkingSendPump"/>, shaped like Kestrel's <c>SocketSender</c>: one
/// <see cref="SocketAsyncEventArgs"/> per connection, reused for every send, a reused segment list for a send of
/// several blocks, and the outcome as a <see cref="SocketError"/> (a reset costs no exception).
/// </summary>
internal sealed class CorkSocketSender : SocketAsyncEventArgs, IValueTaskSource<SocketError>
{
    // Continuations leave the socket's I/O thread: the send loop that resumes may hold or copy for a while.
    private ManualResetValueTaskSourceCore<SocketError> _source = new() { RunContinuationsAsynchronously = true };
    private List<ArraySegment<byte>>? _bufferList;

    public CorkSocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>
    /// Sends all of <paramref name="buffers"/> (a stream socket's send completes only once every byte is queued).
    /// Throws <see cref="ObjectDisposedException"/> when the socket was disposed before the send began.
    /// </summary>
    public ValueTask<SocketError> SendAsync(Socket socket, in ReadOnlySequence<byte> buffers)
    {
        _source.Reset();
        if (buffers.IsSingleSegment)
        {
            SetBuffer(MemoryMarshal.AsMemory(buffers.First));
        }
        else
        {
            _bufferList ??= [];
            foreach (var segment in buffers)
            {
                // Kestrel's blocks are arrays; a block that is not (a custom pool) is copied.
                _bufferList.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : new ArraySegment<byte>(segment.ToArray()));
            }

            BufferList = _bufferList;
        }

        bool pending;
        try
        {
            pending = socket.SendAsync(this);
        }
        catch
        {
            ClearBuffers();
            throw;
        }

        if (pending)
        {
            return new ValueTask<SocketError>(this, _source.Version);
        }

        var error = SocketError;
        ClearBuffers();
        return new ValueTask<SocketError>(error);
    }

    /// <inheritdoc />
    protected override void OnCompleted(SocketAsyncEventArgs e) => _source.SetResult(SocketError);

    /// <inheritdoc />
    public SocketError GetResult(short token)
    {
        var error = _source.GetResult(token);
        ClearBuffers();
        return error;
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    // The blocks go back to their pool after the send; the event args must not keep them.
    private void ClearBuffers()
    {
        if (BufferList is not null)
        {
            BufferList = null;
            _bufferList!.Clear();
        }
        else
        {
            SetBuffer(null, 0, 0);
        }
    }
}
