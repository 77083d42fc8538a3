using System.Net;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using Microsoft.AspNetCore.Connections;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>Tunes each connection the socket transport accepts before handing it to Kestrel.</summary>
internal sealed class TcpTuningConnectionListener : IConnectionListener
{
    private readonly IConnectionListener _inner;
    private readonly EffectiveTcpProfile _profile;
    private readonly TcpConnectionTuner _tuner;

    public TcpTuningConnectionListener(IConnectionListener inner, EffectiveTcpProfile profile, TcpConnectionTuner tuner)
    {
        _inner = inner;
        _profile = profile;
        _tuner = tuner;
    }

    /// <inheritdoc />
    public EndPoint EndPoint => _inner.EndPoint;

    /// <inheritdoc />
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var connection = await _inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return connection is null ? null : _tuner.OnAccepted(connection, _profile);
    }

    /// <inheritdoc />
    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => _inner.UnbindAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
