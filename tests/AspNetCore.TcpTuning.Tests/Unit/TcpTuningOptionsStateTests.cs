using AspNetCore.TcpTuning.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class TcpTuningOptionsStateTests
{
    [Fact]
    public void AReloadCallbackThatRunsFirst_SeesTheNewOptionsOnceItAsksForThem()
    {
        // Kestrel rebinds a changed endpoint from its own reload callback, which can run before the state's: when it asks,
        // the state must load the change instead of handing out the options from before it.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Threshold"] = "1000" }).Build();
        var factory = new OptionsFactory<TcpTuningOptions>(
            [new ConfigureOptions<TcpTuningOptions>(o => o.Defaults.FlushThreshold = int.Parse(configuration["Threshold"]!, System.Globalization.CultureInfo.InvariantCulture))],
            []);
        int? seenByTheFirstCallback = null;
        using var state = new TcpTuningOptionsState(Microsoft.Extensions.Options.Options.Create(factory.Create(Microsoft.Extensions.Options.Options.DefaultName)), factory, configuration, NullLogger<TcpTuningOptionsState>.Instance);
        // A reload token runs its callbacks last registered first: Kestrel's, registered when the server starts (after
        // the state), runs before the state's.
        using (ChangeToken.OnChange(configuration.GetReloadToken, () =>
        {
            state.EnsureCurrent();
            seenByTheFirstCallback = state.Current.Defaults.FlushThreshold;
        }))
        {
            var changes = 0;
            state.Changed += (_, _) => changes++;

            configuration["Threshold"] = "2000";
            configuration.Reload();

            Assert.Equal(2000, seenByTheFirstCallback);
            Assert.Equal(2000, state.Current.Defaults.FlushThreshold);
            Assert.Equal(1, changes);
            Assert.Equal(1, state.Version);
        }
    }
}
