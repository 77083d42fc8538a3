using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Platform;

namespace AspNetCore.TcpTuning.Tests.Unit;

public sealed class EffectiveTcpProfileTests
{
    private static readonly TcpPlatform s_linux = new(TcpPlatformKind.Linux);

    [Fact]
    public void Options_DefaultsAreNoDelayAdaptiveQuickAckAndMessageBoundary()
    {
        var defaults = new TcpTuningOptions().Defaults;

        Assert.Equal((true, QuickAckMode.Adaptive, ResponseFlushMode.MessageBoundary), (defaults.NoDelay, defaults.QuickAck, defaults.ResponseFlush));
        Assert.Null(defaults.KeepAlive);
        Assert.False(new TcpTuningOptions().Strict);
    }

    [Fact]
    public void Merge_EndpointValuesWinKeyByKey_KeepAliveIncluded()
    {
        var defaults = new TcpProfile { NoDelay = true, UserTimeout = TimeSpan.FromSeconds(10), KeepAlive = new() { Enabled = true, Idle = TimeSpan.FromSeconds(60) } };
        var endpoint = new TcpProfile { UserTimeout = TimeSpan.FromSeconds(2), KeepAlive = new() { Count = 3 } };

        var merged = EffectiveTcpProfile.Merge(defaults, endpoint);

        Assert.Equal(true, merged.NoDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), merged.UserTimeout);
        Assert.Equal((true, TimeSpan.FromSeconds(60), (TimeSpan?)null, 3), (merged.KeepAlive!.Enabled, merged.KeepAlive.Idle, merged.KeepAlive.Interval, merged.KeepAlive.Count));
    }

    [Fact]
    public void Create_NoDelayEqualToTransport_LeftToKestrel()
    {
        var same = EffectiveTcpProfile.Create(new TcpProfile { NoDelay = true }, null, null, "TcpTuning:Defaults", s_linux, transportNoDelay: true);
        var different = EffectiveTcpProfile.Create(new TcpProfile { NoDelay = false }, null, null, "TcpTuning:Defaults", s_linux, transportNoDelay: true);

        Assert.Empty(same.AcceptSettings);
        Assert.Equal([new SocketOptionSetting(TcpOption.NoDelay, 0)], different.AcceptSettings);
    }

    [Fact]
    public void Create_ConvertsUnitsAndSplitsListenFromAcceptOptions()
    {
        var profile = new TcpProfile
        {
            ReceiveBufferSize = 262144,
            UserTimeout = TimeSpan.FromMilliseconds(1500),
            Linger = TimeSpan.FromSeconds(3),
            DeferAccept = TimeSpan.FromSeconds(5),
            FastOpenQueueLength = 16,
            QuickAck = QuickAckMode.OnAccept,
        };

        var effective = EffectiveTcpProfile.Create(profile, null, "Api", "TcpTuning:Endpoints:Api", s_linux, transportNoDelay: true);

        Assert.Equal(
            [new(TcpOption.ReceiveBufferSize, 262144), new(TcpOption.DeferAccept, 5), new(TcpOption.FastOpenQueueLength, 16)],
            effective.ListenSettings);
        Assert.Equal(
            [new(TcpOption.ReceiveBufferSize, 262144), new(TcpOption.UserTimeout, 1500), new(TcpOption.Linger, 3), new(TcpOption.QuickAck, 1)],
            effective.AcceptSettings);
        Assert.Equal(["ReceiveBufferSize", "UserTimeout", "Linger", "QuickAck"], effective.AcceptKeys);
        Assert.Equal("TcpTuning:Endpoints:Api:KeepAlive:Idle", effective.KeyOf(new SocketOptionSetting(TcpOption.KeepAliveIdle, 0)));
    }

    [Fact]
    public void Create_KeepAliveDisabled_ProbeTimingNotSet()
    {
        var profile = new TcpProfile { KeepAlive = new() { Enabled = false, Idle = TimeSpan.FromSeconds(5) } };

        var effective = EffectiveTcpProfile.Create(profile, null, null, "TcpTuning:Defaults", s_linux, transportNoDelay: true);

        Assert.Equal([new SocketOptionSetting(TcpOption.KeepAlive, 0)], effective.AcceptSettings);
    }

    [Theory]
    [InlineData("Windows", new[] { "UserTimeout", "NotSentLowWatermark", "TypeOfService", "CongestionControl", "Cork", "DeferAccept", "FastOpenQueueLength" })]
    [InlineData("MacOS", new[] { "UserTimeout", "CongestionControl", "Cork", "DeferAccept", "FastOpenQueueLength" })]
    [InlineData("Linux", new string[0])]
    public void Create_OptionsThePlatformLacks_ListedAsUnsupported(string kind, string[] expected)
    {
        var profile = new TcpProfile
        {
            UserTimeout = TimeSpan.FromSeconds(1),
            NotSentLowWatermark = 1,
            TypeOfService = 8,
            CongestionControl = "cubic",
            Cork = true,
            DeferAccept = TimeSpan.FromSeconds(1),
            FastOpenQueueLength = 1,
            KeepAlive = new() { Enabled = true, Idle = TimeSpan.FromSeconds(1) },
        };

        var effective = EffectiveTcpProfile.Create(profile, null, null, "P", new TcpPlatform(Enum.Parse<TcpPlatformKind>(kind)), transportNoDelay: true);

        Assert.Equal(expected.Select(k => $"P:{k}"), effective.UnsupportedKeys);
    }

    [Fact]
    public void Create_AdaptiveQuickAckWithoutTcpQuickAck_DegradesWithoutWarning()
    {
        var windows = new TcpPlatform(TcpPlatformKind.Windows);

        var adaptive = EffectiveTcpProfile.Create(new TcpProfile { QuickAck = QuickAckMode.Adaptive }, null, null, "P", windows, true);
        var afterEachRead = EffectiveTcpProfile.Create(new TcpProfile { QuickAck = QuickAckMode.AfterEachRead }, null, null, "P", windows, true);

        Assert.Equal((QuickAckMode.Default, 0), (adaptive.QuickAck, adaptive.UnsupportedKeys.Count));
        Assert.Equal(["P:QuickAck"], afterEachRead.UnsupportedKeys);
    }
}
