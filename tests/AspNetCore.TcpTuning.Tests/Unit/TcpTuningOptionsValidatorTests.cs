using AspNetCore.TcpTuning.Tests.Infrastructure;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class TcpTuningOptionsValidatorTests
{
    [Theory]
    [InlineData(true, null)]
    [InlineData(false, "TcpTuning:Endpoints:Api:CongestionControl 'cubic' is offered by this kernel but this process may not set it; tcp_allowed_congestion_control lists: ")]
    public void CongestionControl_OfferedButNotSettableByThisProcess_Fails(bool canSet, string? expectedStart)
    {
        var validator = new TcpTuningOptionsValidator(
            () => [new KestrelNamedEndpoint("Api", "http://127.0.0.2:0")],
            () => "Kestrel:Endpoints",
            new TcpPlatform(TcpPlatformKind.Linux),
            congestionControls: new HashSet<string> { "reno", "cubic" },
            canSetCongestionControl: _ => canSet);
        var options = new TcpTuningOptions();
        options.Endpoints["Api"] = new TcpProfile { CongestionControl = "cubic" };

        var result = validator.Validate(null, options);

        if (expectedStart is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.True(result.Failed);
            Assert.Contains(result.Failures!, f => f.StartsWith(expectedStart, StringComparison.Ordinal) && f.EndsWith("(others need CAP_NET_ADMIN).", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)]
    [InlineData(2, true)]
    public void FastOpenQueueLength_KernelWithoutTheServerBit_FailsInStrictMode(int sysctl, bool succeeds)
    {
        var validator = new TcpTuningOptionsValidator(
            () => [new KestrelNamedEndpoint("Api", "http://127.0.0.2:0")],
            () => "Kestrel:Endpoints",
            new TcpPlatform(TcpPlatformKind.Linux),
            congestionControls: null,
            fastOpen: () => sysctl);
        var options = new TcpTuningOptions { Strict = true };
        options.Endpoints["Api"] = new TcpProfile { FastOpenQueueLength = 64 };

        var result = validator.Validate(null, options);

        Assert.Equal(succeeds, result.Succeeded);
        if (!succeeds)
        {
            Assert.Equal([$"TcpTuning:Endpoints:Api:FastOpenQueueLength has no effect: net.ipv4.tcp_fastopen is {sysctl}, without the server bit (2); set it to 3 or remove the key."], result.Failures);
        }
    }

    [LinuxFact]
    public void CanSet_AnAllowedAlgorithm_True()
    {
        var allowed = CongestionControlCatalog.GetAllowed();
        Assert.NotNull(allowed);

        Assert.True(CongestionControlCatalog.CanSet(allowed.First()));
        Assert.False(CongestionControlCatalog.CanSet("nosuchcc"));
    }
}
