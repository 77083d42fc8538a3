using Microsoft.AspNetCore.Connections;

namespace AspNetCore.TcpTuning.Connection;

/// <summary>
/// The connection Kestrel gets while the per-connection histograms are listened to: aborting or disposing it first
/// records the connection's TCP_INFO, while the socket is still open (Kestrel aborts a connection whose peer closed,
/// and the transport's abort disposes the socket).
/// </summary>
internal sealed class RecordingConnectionContext(ConnectionContext inner, ConnectionCloseRecorder closeRecorder) : ForwardingConnectionContext(inner)
{
    public override void Abort(ConnectionAbortedException abortReason)
    {
        closeRecorder.OnClosing();
        Inner.Abort(abortReason);
    }

    public override async ValueTask DisposeAsync()
    {
        closeRecorder.OnClosing();
        await Inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
