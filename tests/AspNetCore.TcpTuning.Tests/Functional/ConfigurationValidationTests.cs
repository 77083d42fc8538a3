using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>Bad configuration stops the app at start with every error, each naming its full key.</summary>
public sealed class ConfigurationValidationTests
{
    [Theory]
    [InlineData("TcpTuning:Endpoints:Api:SendBufferSize", "-1", "TcpTuning:Endpoints:Api:SendBufferSize must be between 1 and 1073741823.")]
    [InlineData("TcpTuning:Endpoints:Api:ReceiveBufferSize", "0", "TcpTuning:Endpoints:Api:ReceiveBufferSize must be between 1 and 1073741823.")]
    [InlineData("TcpTuning:Endpoints:Api:NotSentLowWatermark", "0", "TcpTuning:Endpoints:Api:NotSentLowWatermark must be between 1 and 2147483647.")]
    [InlineData("TcpTuning:Endpoints:Api:KeepAlive:Count", "200", "TcpTuning:Endpoints:Api:KeepAlive:Count must be between 1 and 127.")]
    [InlineData("TcpTuning:Endpoints:Api:KeepAlive:Idle", "00:00:00.500", "TcpTuning:Endpoints:Api:KeepAlive:Idle must be a whole number of seconds between 00:00:01 and 09:06:07.")]
    [InlineData("TcpTuning:Endpoints:Api:KeepAlive:Interval", "10:00:00", "TcpTuning:Endpoints:Api:KeepAlive:Interval must be a whole number of seconds between 00:00:01 and 09:06:07.")]
    [InlineData("TcpTuning:Endpoints:Api:UserTimeout", "-00:00:01", "TcpTuning:Endpoints:Api:UserTimeout must be a whole number of milliseconds between 00:00:00.001 and 24.20:31:23.6470000.")]
    [InlineData("TcpTuning:Endpoints:Api:TypeOfService", "256", "TcpTuning:Endpoints:Api:TypeOfService must be between 0 and 255.")]
    [InlineData("TcpTuning:Endpoints:Api:FastOpenQueueLength", "0", "TcpTuning:Endpoints:Api:FastOpenQueueLength must be between 1 and 65535.")]
    [InlineData("TcpTuning:Endpoints:Api:DeferAccept", "02:00:00", "TcpTuning:Endpoints:Api:DeferAccept must be a whole number of seconds between 00:00:01 and 01:00:00.")]
    [InlineData("TcpTuning:Endpoints:Api:Linger", "-00:00:01", "TcpTuning:Endpoints:Api:Linger must be a whole number of seconds between 00:00:00 and 18:12:15.")]
    [InlineData("TcpTuning:Defaults:QuickAck", "Sometimes", "TcpTuning:Defaults:QuickAck has the value 'Sometimes', which is not one of Default, OnAccept, AfterEachRead, Adaptive.")]
    [InlineData("TcpTuning:Endpoints:Api:ResponseFlush", "1", "TcpTuning:Endpoints:Api:ResponseFlush has the value '1', which is not one of PerWrite, MessageBoundary.")]
    [InlineData("TcpTuning:Endpoints:Api:NoDelay", "yes", "TcpTuning:Endpoints:Api:NoDelay has the value 'yes', which is not true or false.")]
    [InlineData("TcpTuning:Endpoints:Api:SendBufferSize", "1MB", "TcpTuning:Endpoints:Api:SendBufferSize has the value '1MB', which is not a whole number.")]
    [InlineData("TcpTuning:Endpoints:Api:UserTimeout", "20s", "TcpTuning:Endpoints:Api:UserTimeout has the value '20s', which is not a time span such as '00:00:30'.")]
    [InlineData("TcpTuning:Endpoints:Api:NoDealy", "true", "TcpTuning:Endpoints:Api:NoDealy is not a known setting; the keys here are NoDelay, QuickAck, ResponseFlush, FlushThreshold, MaxFlushDelay, HonorExplicitFlush, Cork, DetectStalls, SendBufferSize, ReceiveBufferSize, KeepAlive, UserTimeout, NotSentLowWatermark, TypeOfService, CongestionControl, Linger, DeferAccept, FastOpenQueueLength, RawOptions.")]
    [InlineData("TcpTuning:Endpoints:Api:CongestionControl", "no-such", "TcpTuning:Endpoints:Api:CongestionControl must be an algorithm name of 1 to 15 ASCII letters or digits.")]
    [InlineData("TcpTuning:Endpoints:Api:KeepAlive:Idle", "00:00:30", "TcpTuning:Endpoints:Api:KeepAlive:Idle, Interval and Count take effect only with TcpTuning:Endpoints:Api:KeepAlive:Enabled set to true.")]
    public async Task BadValue_FailsAtStart_NamingTheKey(string key, string value, string expected)
    {
        var error = await StartWithAsync(new() { [key] = value });

        Assert.Contains(expected, error.Failures);
    }

    [LinuxFact]
    public async Task CongestionControlTheKernelLacks_FailsAtStart_ListingWhatItHas()
    {
        var error = await StartWithAsync(new() { ["TcpTuning:Endpoints:Api:CongestionControl"] = "nosuchcc" });

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("TcpTuning:Endpoints:Api:CongestionControl 'nosuchcc' is not offered by this kernel; tcp_available_congestion_control lists: ", failure);
        Assert.Contains("reno", failure);
    }

    [Fact]
    public async Task EndpointKeyMatchingNoKestrelEndpoint_FailsAtStart_ListingTheNames()
    {
        var error = await StartWithAsync(new() { ["TcpTuning:Endpoints:Apu:NoDelay"] = "true" });

        Assert.Equal(["TcpTuning:Endpoints:Apu matches no Kestrel endpoint; the names under Kestrel:Endpoints are: Api."], error.Failures);
    }

    [Fact]
    public async Task SeveralBadValues_AllReportedTogether()
    {
        var error = await StartWithAsync(new()
        {
            ["TcpTuning:Defaults:TypeOfService"] = "300",
            ["TcpTuning:Endpoints:Api:KeepAlive:Enabled"] = "true",
            ["TcpTuning:Endpoints:Api:KeepAlive:Count"] = "0",
            ["TcpTuning:Endpoints:Api:QuickAck"] = "Never",
            ["TcpTuning:Endpoints:Nope:SendBufferSize"] = "-5",
        });

        Assert.Equal(
            new[]
            {
                "TcpTuning:Endpoints:Api:QuickAck has the value 'Never', which is not one of Default, OnAccept, AfterEachRead, Adaptive.",
                "TcpTuning:Defaults:TypeOfService must be between 0 and 255.",
                "TcpTuning:Endpoints:Api:KeepAlive:Count must be between 1 and 127.",
                "TcpTuning:Endpoints:Nope matches no Kestrel endpoint; the names under Kestrel:Endpoints are: Api.",
                "TcpTuning:Endpoints:Nope:SendBufferSize must be between 1 and 1073741823.",
            }.Order(StringComparer.Ordinal),
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{ "Defaults": { "NoDelay": null } }""", "TcpTuning:Defaults:NoDelay is empty (null); give a value or remove the key.")]
    [InlineData("""{ "Defaults": { "NoDelay": [true] } }""", "TcpTuning:Defaults:NoDelay is an object or an array; a single value is expected.")]
    [InlineData("""{ "Endpoints": { "Api": { "FlushThreshold": { "Value": 5 } } } }""", "TcpTuning:Endpoints:Api:FlushThreshold is an object or an array; a single value is expected.")]
    [InlineData("""{ "Defaults": { "QuickAck": ["Adaptive"] } }""", "TcpTuning:Defaults:QuickAck is an object or an array; a single value is expected.")]
    [InlineData("""{ "Endpoints": { "Api": { "KeepAlive": "yes" } } }""", "TcpTuning:Endpoints:Api:KeepAlive has the value 'yes'; an object of settings is expected.")]
    [InlineData("""{ "Endpoints": "api" }""", "TcpTuning:Endpoints has the value 'api'; an object of settings is expected.")]
    [InlineData("""{ "Defaults": 5 }""", "TcpTuning:Defaults has the value '5'; an object of settings is expected.")]
    [InlineData("""{ "Endpoints": { "Api": "fast" } }""", "TcpTuning:Endpoints:Api has the value 'fast'; an object of settings is expected.")]
    [InlineData("""{ "Endpoints": { "Api": { "UserTimeout": "00:00:30 " } } }""", "TcpTuning:Endpoints:Api:UserTimeout has the value '00:00:30 ', with spaces around it.")]
    [InlineData("""{ "Endpoints": { "Api": { "UserTimeout": "30" } } }""", "TcpTuning:Endpoints:Api:UserTimeout has the value '30', which would be read as 30 days; write a time span as [d.]hh:mm:ss[.fffffff], such as '00:00:30'.")]
    public async Task WrongShapeInJson_FailsAtStart_NamingTheKey(string tuningJson, string expected)
    {
        var builder = TuningTestServer.CreateBuilder(Settings([]), new FakeLogCollector(), new());
        builder.Configuration.AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes($$"""{ "TcpTuning": {{tuningJson}} }""")));
        builder.WebHost.UseTcpTuning();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public async Task CodeSettingsOutOfRange_FailsAtStart_NamingTheEndpoint()
    {
        var logs = new FakeLogCollector();
        var builder = TuningTestServer.CreateBuilder(new Dictionary<string, string?>(), logs, new());
        builder.WebHost.UseTcpTuning();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.UseTcpTuning(p => p.TypeOfService = 999)));
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Equal(["ListenOptions.UseTcpTuning(127.0.0.1:0):TypeOfService must be between 0 and 255."], error.Failures);
    }

    [Fact]
    public async Task ValidConfiguration_Starts()
    {
        var logs = new FakeLogCollector();
        var builder = TuningTestServer.CreateBuilder(Settings(new() { ["TcpTuning:Endpoints:Api:KeepAlive:Enabled"] = "true" }), logs, new());
        builder.WebHost.UseTcpTuning();
        await using var app = builder.Build();

        await app.StartAsync();
        await app.StopAsync();
    }

    private static Dictionary<string, string?> Settings(Dictionary<string, string?> tuning)
    {
        tuning["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0";
        return tuning;
    }

    private static async Task<OptionsValidationException> StartWithAsync(Dictionary<string, string?> tuning)
    {
        var builder = TuningTestServer.CreateBuilder(Settings(tuning), new FakeLogCollector(), new());
        builder.WebHost.UseTcpTuning();
        await using var app = builder.Build();
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }
}
