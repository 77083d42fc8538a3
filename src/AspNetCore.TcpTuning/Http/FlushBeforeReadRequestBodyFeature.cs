using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace AspNetCore.TcpTuning.Http;

/// <summary>
/// Request body access that first flushes response bytes the policy holds, and has the send side release what it
/// holds when the read waits: an app that writes and then waits for more of the request (full duplex, a prompt before
/// reading, <c>Expect: 100-continue</c>) must never wait on its own held bytes.
/// </summary>
internal sealed class FlushBeforeReadRequestBodyFeature : IRequestBodyPipeFeature
{
    private readonly MessageBoundaryPipeWriter _response;
    private PipeReader _innerReader = null!;
    private Stream? _innerBody;
    private FlushBeforeReadStream? _body;
    private FlushBeforeReadPipeReader? _reader;

    /// <param name="response">The response writer whose held bytes go first.</param>
    public FlushBeforeReadRequestBodyFeature(MessageBoundaryPipeWriter response) => _response = response;

    /// <summary>Wraps one request's body.</summary>
    /// <param name="innerBody">The request body stream.</param>
    /// <param name="innerReader">The request body reader, taken while the stream is still the server's own.</param>
    public void Initialize(Stream innerBody, PipeReader innerReader)
    {
        // Kestrel reuses its body stream and reader for every request of a connection: so do we.
        if (!ReferenceEquals(innerBody, _innerBody))
        {
            _innerBody = innerBody;
            _body = null;
        }

        if (!ReferenceEquals(innerReader, _innerReader))
        {
            _innerReader = innerReader;
            _reader = null;
        }
    }

    /// <summary>The request body stream to install as <c>HttpRequest.Body</c>.</summary>
    public Stream Body => _body ??= new FlushBeforeReadStream(_innerBody!, _response);

    public PipeReader Reader => _reader ??= new FlushBeforeReadPipeReader(_innerReader, _response);

    private sealed class FlushBeforeReadStream(Stream inner, MessageBoundaryPipeWriter response) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (response.HasHeldBytes)
            {
                await response.FlushBeforeReadAsync(cancellationToken).ConfigureAwait(false);
            }

            var read = inner.ReadAsync(buffer, cancellationToken);
            if (!read.IsCompleted)
            {
                response.OnWaitingForPeer();
            }

            return await read.ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Synchronous reads: Kestrel's stream enforces AllowSynchronousIO; nothing is held by synchronous writes.
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class FlushBeforeReadPipeReader(PipeReader inner, MessageBoundaryPipeWriter response) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
            => response.HasHeldBytes ? FlushThenReadAsync(cancellationToken) : ReadTellingWait(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        private async ValueTask<ReadResult> FlushThenReadAsync(CancellationToken cancellationToken)
        {
            await response.FlushBeforeReadAsync(cancellationToken).ConfigureAwait(false);
            return await ReadTellingWait(cancellationToken).ConfigureAwait(false);
        }

        // A read that waits for the peer: the send side must not hold what the peer waits for.
        private ValueTask<ReadResult> ReadTellingWait(CancellationToken cancellationToken)
        {
            var read = inner.ReadAsync(cancellationToken);
            if (!read.IsCompleted)
            {
                response.OnWaitingForPeer();
            }

            return read;
        }
    }
}
