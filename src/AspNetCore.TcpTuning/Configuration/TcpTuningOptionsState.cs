using AspNetCore.TcpTuning.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AspNetCore.TcpTuning.Configuration;

/// <summary>
/// The options every new connection is tuned with: those validated at start, then each valid reload of the
/// configuration. An invalid reload keeps the last good options and logs one error listing every bad key.
/// </summary>
/// <remarks>
/// Reloads are built here with the options factory (binding and validation) and caught, rather than through
/// <c>IOptionsMonitor</c>, whose change callback would throw the validation error into the configuration's reload.
/// </remarks>
internal sealed class TcpTuningOptionsState : IDisposable
{
    private readonly IOptions<TcpTuningOptions> _startOptions;
    private readonly IOptionsFactory<TcpTuningOptions> _factory;
    private readonly ILogger _logger;
    private readonly IConfiguration _configuration;
    private readonly IDisposable? _subscription;
    private readonly Lock _reloading = new();
    private volatile Snapshot? _current;
    private IChangeToken _loadedFrom;
    private string? _lastRejected;

    public TcpTuningOptionsState(IOptions<TcpTuningOptions> startOptions, IOptionsFactory<TcpTuningOptions> factory, IConfiguration configuration, ILogger<TcpTuningOptionsState> logger)
    {
        _startOptions = startOptions;
        _factory = factory;
        _logger = logger;
        _configuration = configuration;
        _loadedFrom = configuration.GetReloadToken();
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>Raised after a valid reload, with the options before and after it.</summary>
    public event Action<TcpTuningOptions, TcpTuningOptions>? Changed;

    /// <summary>The options in force.</summary>
    public TcpTuningOptions Current => Snap().Options;

    /// <summary>Changes with every valid reload: whoever caches something made from <see cref="Current"/> compares it.</summary>
    public int Version => Snap().Version;

    public void Dispose() => _subscription?.Dispose();

    /// <summary>
    /// Reloads now if the configuration changed since the last load. Kestrel rebinds a changed endpoint from its own
    /// reload callback, which may run before this one: the bind asks first, so a new listen socket never gets the
    /// options from before the change.
    /// </summary>
    public void EnsureCurrent()
    {
        if (Volatile.Read(ref _loadedFrom).HasChanged)
        {
            Reload();
        }
    }

    internal void Reload()
    {
        lock (_reloading)
        {
            // The change was loaded already (by a bind that asked first, or a reload signalled twice).
            if (!_loadedFrom.HasChanged)
            {
                return;
            }

            Volatile.Write(ref _loadedFrom, _configuration.GetReloadToken());
            ReloadCore();
        }
    }

    private void ReloadCore()
    {
        TcpTuningOptions next;
        try
        {
            next = _factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            // One error per invalid change: a reload can be signalled more than once (the file's provider, then the root).
            var errors = string.Join(" ", ex.Failures);
            if (errors != Interlocked.Exchange(ref _lastRejected, errors))
            {
                TcpTuningLog.ReloadRejected(_logger, errors);
            }

            return;
        }

        Volatile.Write(ref _lastRejected, null);
        var previous = Snap();
        _current = new Snapshot(next, previous.Version + 1);
        Changed?.Invoke(previous.Options, next);
    }

    // The start options are read when first needed, not when this is created: their validation error, if any, belongs
    // to the host's start (ValidateOnStart), not to whichever service happens to be resolved first.
    private Snapshot Snap() => _current ?? Interlocked.CompareExchange(ref _current, new Snapshot(_startOptions.Value, 0), null) ?? _current;

    private sealed record Snapshot(TcpTuningOptions Options, int Version);
}
