using Microsoft.AspNetCore.Connections;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The connection Kestrel gets when <see cref="CorkingSendPump"/> owns its send side: the same connection, except that
/// disposing it first lets the pump send what it still holds, so closing a connection never truncates its last response.
/// </summary>
internal sealed class PumpedConnectionContext : ForwardingConnectionContext
{
    // Long enough for a healthy peer to take the last bytes; a dead one is aborted by Kestrel's own timeouts first.
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    // How long an abort waits for the pump to send what it held (a send to a live socket takes microseconds).
    private static readonly TimeSpan s_abortDrainTimeout = TimeSpan.FromMilliseconds(50);

    private readonly CorkingSendPump _pump;
    private readonly ConnectionCloseRecorder? _closeRecorder;

    public PumpedConnectionContext(ConnectionContext inner, CorkingSendPump pump, ConnectionCloseRecorder? closeRecorder)
        : base(inner)
    {
        _pump = pump;
        _closeRecorder = closeRecorder;
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _closeRecorder?.OnClosing();
        if (_pump.SendHeldBeforeAbort() is { } sent)
        {
            _ = AbortAfterAsync(sent, abortReason);
            return;
        }

        Inner.Abort(abortReason);
    }

    public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application via ConnectionContext.Abort()."));

    // Bytes the pump held are sent before the reset, as bytes Kestrel's own sender had would be: without the pump they
    // would have left at their flush. Bounded, so an abort never waits on a peer that takes nothing.
    private async Task AbortAfterAsync(Task sent, ConnectionAbortedException abortReason)
    {
        try
        {
            await sent.WaitAsync(s_abortDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        Inner.Abort(abortReason);
    }

    public override async ValueTask DisposeAsync()
    {
        // Kestrel is done with the connection but does not complete the output it was handed (it completes its own
        // pipes in DisposeAsync): completing ours lets the pump send what is left and then hand over to Kestrel's sender.
        await _pump.Output.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _pump.Completion.WaitAsync(s_drainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Inner.Abort();
        }

        _closeRecorder?.OnClosing();
        await Inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
