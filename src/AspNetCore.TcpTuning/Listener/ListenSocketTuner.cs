using System.Net;
using System.Net.Sockets;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Platform;
using Microsoft.Extensions.Logging;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>
/// Applies listener-level options (TCP_DEFER_ACCEPT, TCP_FASTOPEN, the inherited receive buffer) to a listen socket
/// between bind and listen, through <c>SocketTransportOptions.CreateBoundListenSocket</c>.
/// </summary>
internal sealed class ListenSocketTuner
{
    // The transport creates the listen socket inside our BindAsync call; this carries that bind's profile to the hook.
    private readonly AsyncLocal<EffectiveTcpProfile?> _binding = new();
    private readonly SocketOptionWriter _writer;
    private readonly TcpTuningOptionsState _state;
    private readonly TcpTuningMetrics _metrics;
    private readonly ILogger _logger;

    public ListenSocketTuner(SocketOptionWriter writer, TcpTuningMetrics metrics, TcpTuningOptionsState state, ILogger<ListenSocketTuner> logger)
    {
        _state = state;
        _writer = writer;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Marks the bind in progress on this async flow until disposed.</summary>
    public BindingScope Begin(EffectiveTcpProfile profile)
    {
        _binding.Value = profile;
        return new BindingScope(this);
    }

    /// <summary>Called by the transport with each new listen socket.</summary>
    public Socket OnListenSocketCreated(Socket socket, EndPoint endPoint)
    {
        if (_binding.Value is not { } profile || endPoint is not IPEndPoint)
        {
            return socket;
        }

        foreach (var setting in profile.ListenSettings)
        {
            if (_writer.TrySet(socket, setting) is { } error)
            {
                _metrics.SocketOptionFailed(profile.EndpointName, setting.KeyBelowProfile, error);
                if (_state.Current.Strict)
                {
                    // The bind fails, and with it the start: Strict asks for every setting or none.
                    socket.Dispose();
                    throw new InvalidOperationException($"Setting {profile.KeyOf(setting)} on the listen socket {endPoint} failed with {error}, and TcpTuning:Strict is true.");
                }

                TcpTuningLog.ListenSocketOptionFailed(_logger, profile.KeyOf(setting), endPoint, error);
            }
        }

        return socket;
    }

    internal readonly struct BindingScope(ListenSocketTuner tuner) : IDisposable
    {
        public void Dispose() => tuner._binding.Value = null;
    }
}
