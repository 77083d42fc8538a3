using System.Diagnostics.Metrics;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Testing;
using AspNetCore.TcpTuning.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AspNetCore.TcpTuning.Tests.Functional;

/// <summary>The per-connection histograms: a connection's TCP_INFO, recorded once as it closes, tagged with its endpoint.</summary>
public sealed class ConnectionMetricsTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Kestrel:Endpoints:Api:Url"] = "http://127.0.0.2:0",
    };

    [LinuxFact]
    public async Task ClosedConnection_RecordsItsRttRetransmissionsAndSegmentsPerResponse()
    {
        await using var server = await TuningTestServer.StartAsync(s_settings);
        var meters = server.App.Services.GetRequiredService<IMeterFactory>();
        using var rtt = new MetricCollector<double>(meters, TcpTuningMetrics.MeterName, "tcp_tuning.connection.rtt");
        using var retransmissions = new MetricCollector<long>(meters, TcpTuningMetrics.MeterName, "tcp_tuning.connection.retransmission");
        using var segments = new MetricCollector<double>(meters, TcpTuningMetrics.MeterName, "tcp_tuning.connection.response.segment");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using (var client = await WriteWriteReadClient.ConnectAsync(server.AddressOn("127.0.0.2"), singleSend: true, cancellationToken: timeout.Token))
        {
            for (var i = 0; i < 5; i++)
            {
                await client.PostAsync("/echo", new byte[50], timeout.Token);
            }

            Assert.Empty(rtt.GetMeasurementSnapshot());
        }

        await segments.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        var roundTrip = Assert.Single(rtt.GetMeasurementSnapshot());
        Assert.Equal("Api", roundTrip.Tags["tcp_tuning.endpoint"]);
        Assert.InRange(roundTrip.Value, 1e-6, 0.1);
        Assert.Equal(0, Assert.Single(retransmissions.GetMeasurementSnapshot()).Value);
        // Each small response is one data segment.
        Assert.Equal(1.0, Assert.Single(segments.GetMeasurementSnapshot()).Value);
    }
}
