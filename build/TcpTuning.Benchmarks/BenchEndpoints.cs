namespace TcpTuning.Benchmarks;

/// <summary>The endpoints of the two server processes; each configuration has its own address.</summary>
internal static class BenchEndpoints
{
    public const string VethHost = "10.203.0.1";
    public const string VethClient = "10.203.0.2";

    /// <summary>A second bare Kestrel endpoint on the veth address: the A/A control of the throughput table there.</summary>
    public const int VethControlPort = 18089;

    /// <summary>The library defaults with the endpoint's <c>CongestionControl</c> set to cubic, on the veth address.</summary>
    public const int VethCubicPort = 18096;

    /// <summary>Loopback endpoints: name, address, QuickAck, ResponseFlush (null: bare Kestrel).</summary>
    public static readonly (string Name, string Host, string? QuickAck, string? ResponseFlush)[] Loopback =
    [
        ("bare Kestrel", "127.0.0.10", null, null),
        ("bare Kestrel (A/A control)", "127.0.0.9", null, null),
        ("Default", "127.0.0.11", "Default", "PerWrite"),
        ("OnAccept", "127.0.0.12", "OnAccept", "PerWrite"),
        ("AfterEachRead", "127.0.0.13", "AfterEachRead", "PerWrite"),
        ("Adaptive", "127.0.0.14", "Adaptive", "PerWrite"),
        ("Adaptive + MessageBoundary (library defaults)", "127.0.0.15", "Adaptive", "MessageBoundary"),
    ];

    /// <summary>Loopback endpoints of the tuned server that differ only in MaxFlushDelay (null: PerWrite).</summary>
    public static readonly (string Name, string Host, string? MaxFlushDelay)[] FlushDelays =
    [
        ("PerWrite", "127.0.0.14", null),
        ("MessageBoundary, MaxFlushDelay 1 ms", "127.0.0.16", "00:00:00.001"),
        ("MessageBoundary, MaxFlushDelay 5 ms (default)", "127.0.0.15", "00:00:00.005"),
        ("MessageBoundary, MaxFlushDelay 20 ms", "127.0.0.17", "00:00:00.020"),
    ];

    /// <summary>Loopback endpoints of the tuned server with <c>Cork</c>: name, address, ResponseFlush.</summary>
    public static readonly (string Name, string Host, string ResponseFlush)[] LoopbackCork =
    [
        ("Cork + PerWrite", "127.0.0.18", "PerWrite"),
        ("Cork + MessageBoundary", "127.0.0.19", "MessageBoundary"),
    ];

    /// <summary>Across the veth pair, fixed ports (one address).</summary>
    public static readonly (string Name, int Port, string? ResponseFlush, bool Cork)[] Veth =
    [
        ("bare Kestrel", 18090, null, false),
        ("Adaptive", 18091, "PerWrite", false),
        ("Adaptive + MessageBoundary (library defaults)", 18092, "MessageBoundary", false),
        ("Cork + PerWrite", 18093, "PerWrite", true),
        ("Cork + MessageBoundary", 18094, "MessageBoundary", true),
    ];

    public static Dictionary<string, string?> BareSettings(bool veth)
    {
        var settings = new Dictionary<string, string?>();
        var i = 0;
        foreach (var (_, host, quickAck, _) in Loopback.Where(e => e.QuickAck is null))
        {
            settings[$"Kestrel:Endpoints:E{i++}:Url"] = $"http://{host}:0";
        }

        if (veth)
        {
            settings["Kestrel:Endpoints:Veth:Url"] = $"http://{VethHost}:{Veth[0].Port}";
            settings["Kestrel:Endpoints:VethControl:Url"] = $"http://{VethHost}:{VethControlPort}";
        }

        return settings;
    }

    public static Dictionary<string, string?> TunedSettings(bool veth)
    {
        var settings = new Dictionary<string, string?>();
        var i = 0;
        foreach (var (_, host, quickAck, flush) in Loopback.Where(e => e.QuickAck is not null))
        {
            settings[$"Kestrel:Endpoints:E{i}:Url"] = $"http://{host}:0";
            settings[$"TcpTuning:Endpoints:E{i}:QuickAck"] = quickAck;
            if (quickAck == "Default")
            {
                // The control of the connection-layer wrappers' cost: none, so no stall detection either.
                settings[$"TcpTuning:Endpoints:E{i}:DetectStalls"] = "false";
            }

            settings[$"TcpTuning:Endpoints:E{i++}:ResponseFlush"] = flush;
        }

        foreach (var (_, host, delay) in FlushDelays.Where(e => e.MaxFlushDelay is not null && !Loopback.Any(l => l.Host == e.Host)))
        {
            settings[$"Kestrel:Endpoints:E{i}:Url"] = $"http://{host}:0";
            settings[$"TcpTuning:Endpoints:E{i++}:MaxFlushDelay"] = delay;
        }

        foreach (var (_, host, flush) in LoopbackCork)
        {
            settings[$"Kestrel:Endpoints:E{i}:Url"] = $"http://{host}:0";
            settings[$"TcpTuning:Endpoints:E{i}:ResponseFlush"] = flush;
            settings[$"TcpTuning:Endpoints:E{i++}:Cork"] = "true";
        }

        if (veth)
        {
            foreach (var (_, port, flush, cork) in Veth.Where(e => e.ResponseFlush is not null))
            {
                settings[$"Kestrel:Endpoints:V{port}:Url"] = $"http://{VethHost}:{port}";
                settings[$"TcpTuning:Endpoints:V{port}:ResponseFlush"] = flush;
                settings[$"TcpTuning:Endpoints:V{port}:Cork"] = cork ? "true" : "false";
            }

            settings["Kestrel:Endpoints:VCubic:Url"] = $"http://{VethHost}:{VethCubicPort}";
            settings["TcpTuning:Endpoints:VCubic:CongestionControl"] = "cubic";
        }

        return settings;
    }
}
