using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;

namespace AspNetCore.TcpTuning.Http;

// Flushes nobody awaits (the timer's, a failure's) and the calls that wait for them first.
internal sealed partial class MessageBoundaryPipeWriter
{
    // The same call again once the background flush completed.
    private async ValueTask<FlushResult> WriteAfterAsync(Task background, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return await WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> FlushAfterAsync(Task background, bool explicitFlush, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return explicitFlush
            ? await ExplicitFlushAsync(cancellationToken).ConfigureAwait(false)
            : await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> ReadFlushAfterAsync(Task background, CancellationToken cancellationToken)
    {
        await background.ConfigureAwait(false);
        return await FlushBeforeReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task EndAfterAsync(Task background, bool markEnd)
    {
        await background.ConfigureAwait(false);
        await EndMessageAsync(markEnd).ConfigureAwait(false);
    }

    private async Task FailAfterAsync(Task background)
    {
        await background.ConfigureAwait(false);
        await FailAsync().ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> WriteToKestrelAfterAsync(ValueTask materialized, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        await materialized.ConfigureAwait(false);
        return await WriteToKestrel(source, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<FlushResult> WriteAfterAsync(ValueTask<FlushResult> held, ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        var result = await held.ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            return result;
        }

        return await _inner.Writer.WriteAsync(source, cancellationToken).ConfigureAwait(false);
    }

    // Under _sync.
    private void RegisterUnderLock()
    {
        if (!_registered && !_ended)
        {
            _registered = true;
            _sweeper.Register(this, _policy.Deadline);
        }
    }

    // A flush nobody awaits: its failure is the connection's, which the app sees at its next write.
    // A flush nobody awaits (the timer's, or one a failure or DisableBuffering started). Kestrel takes an app's flushes
    // one at a time (each write awaited): the next call that flushes waits for this one, and the timer looks again once
    // it completed. Under _sync.
    private void InBackground(ValueTask<FlushResult> flush)
    {
        if (!flush.IsCompletedSuccessfully)
        {
            _background = InBackgroundAsync(flush);
        }
    }

    private async Task InBackgroundAsync(ValueTask<FlushResult> flush)
    {
        await ObserveAsync(flush).ConfigureAwait(false);
        using (Locked())
        {
            if (_watched && _policy.Held > 0)
            {
                RegisterUnderLock();
            }
        }
    }

    // Under _sync: a flush started in the background is still in flight.
    private bool InFlight([NotNullWhen(true)] out Task? background)
    {
        background = _background;
        return background is { IsCompleted: false };
    }

    private static async Task ObserveAsync(ValueTask<FlushResult> pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The connection went away or the response failed; Kestrel reports that itself.
        }
    }
}
