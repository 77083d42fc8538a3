using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>Chains <see cref="ListenSocketTuner"/> after whatever creates Kestrel's listen sockets, the app's own hook included.</summary>
internal sealed class SocketTransportOptionsSetup : IPostConfigureOptions<SocketTransportOptions>
{
    private readonly ListenSocketTuner _tuner;

    public SocketTransportOptionsSetup(ListenSocketTuner tuner) => _tuner = tuner;

    public void PostConfigure(string? name, SocketTransportOptions options)
    {
        var createBoundListenSocket = options.CreateBoundListenSocket;
        options.CreateBoundListenSocket = endPoint => _tuner.OnListenSocketCreated(createBoundListenSocket(endPoint), endPoint);
    }
}
