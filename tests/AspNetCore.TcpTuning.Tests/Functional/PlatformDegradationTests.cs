using AspNetCore.TcpTuning.Platform;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>
/// A real Kestrel told it runs on a platform that lacks some options: they are logged once and skipped, or fail the
/// start in strict mode. The options the platform has are still applied to the real sockets.
/// </summary>
public sealed class PlatformDegradationTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
        ["TcpTuning:Endpoints:Api:CongestionControl"] = "reno",
        ["TcpTuning:Endpoints:Api:UserTimeout"] = "00:00:20",
        ["TcpTuning:Endpoints:Api:KeepAlive:Enabled"] = "true",
    };

    [LinuxFact]
    public async Task OptionPlatformLacks_WarnsOncePerEndpointAndOption_AndSkipsIt()
    {
        await using var server = await TuningTestServer.StartAsync(
            s_settings, builder => builder.Services.AddSingleton(new TcpPlatform(TcpPlatformKind.Windows)));
        var address = server.AddressOn("127.0.0.2");

        TuningReport? report = null;
        for (var i = 0; i < 3; i++)
        {
            report = await TuningTestServer.GetFeatureAsync(address);
        }

        var options = await TuningTestServer.GetSocketOptionsAsync(address);
        var warnings = server.Logs.GetSnapshot().Where(e => e.Id.Name == "OptionNotSupported").Select(e => e.Message).ToList();
        Assert.Equal(
            [
                "TcpTuning:Endpoints:Api:UserTimeout is not supported on Windows; it is skipped for endpoint 127.0.0.2:0.",
                "TcpTuning:Endpoints:Api:CongestionControl is not supported on Windows; it is skipped for endpoint 127.0.0.2:0.",
            ],
            warnings);
        Assert.All(server.Logs.GetSnapshot().Where(e => e.Id.Name == "OptionNotSupported"), e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Equal(["UserTimeout", "CongestionControl"], report!.SkippedOptions.Select(k => k["TcpTuning:Endpoints:Api:".Length..]));
        Assert.Equal(["KeepAlive:Enabled"], report.AppliedOptions);
        Assert.Equal(("True", "0"), (options["KeepAlive:Enabled"], options["UserTimeout"]));
    }

    [Fact]
    public async Task OptionPlatformLacks_InStrictMode_FailsAtStart()
    {
        var settings = new Dictionary<string, string?>(s_settings) { ["TcpTuning:Strict"] = "true" };
        var builder = TuningTestServer.CreateBuilder(settings, new FakeLogCollector(), new());
        builder.Services.AddSingleton(new TcpPlatform(TcpPlatformKind.Windows));
        Microsoft.AspNetCore.Hosting.TcpTuningWebHostBuilderExtensions.UseTcpTuning(builder.WebHost);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Equal(
            [
                "TcpTuning:Endpoints:Api:UserTimeout is not supported on Windows, and TcpTuning:Strict is true.",
                "TcpTuning:Endpoints:Api:CongestionControl is not supported on Windows, and TcpTuning:Strict is true.",
            ],
            error.Failures);
    }
}
