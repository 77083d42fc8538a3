using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using AspNetCore.TcpTuning;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace TcpTuning.Benchmarks;

/// <summary>What the server saw of one connection: TCP_INFO and QuickAck re-arms at the first and last recorded request.</summary>
internal sealed record ConnectionSample(long Requests, long FirstSegmentsOut, long LastSegmentsOut, long FirstDataSegmentsOut, long LastDataSegmentsOut, long FirstRearms, long LastRearms, long FirstBytesSent = 0, long LastBytesSent = 0, long FirstRetransmits = 0, long LastRetransmits = 0, long LastPacingRate = 0);

/// <summary>
/// The server side of the benchmark, run in its own process (so an LD_PRELOAD send counter sees only its sends):
/// bare Kestrel, or the tuned app with one named endpoint per configuration, each on its own address.
/// </summary>
internal static class BenchServer
{
    private static readonly byte[] s_piece = new byte[100];

    public static async Task<int> RunAsync(bool tuned, bool veth)
    {
        Array.Fill(s_piece, (byte)'x');
        var settings = tuned ? BenchEndpoints.TunedSettings(veth) : BenchEndpoints.BareSettings(veth);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Configure(builder.Configuration.GetSection("Kestrel")));
        if (tuned)
        {
            builder.WebHost.UseTcpTuning();
        }

        var app = builder.Build();
        var connections = new ConcurrentDictionary<string, ConnectionSample>();
        app.MapGet("/plaintext", () => Results.Text("Hello, World!"));
        app.MapPost("/echo", async (HttpContext context) =>
        {
            var length = 0L;
            var buffer = new byte[4096];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                length += read;
            }

            Record(context, connections);
            return Results.Text(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        // A prompt, then the request body (which the client sends once it has seen the prompt), then an answer.
        app.MapPost("/prompt", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("prompt\n");
            var buffer = new byte[64];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }

            await context.Response.WriteAsync("done\n");
        });
        // 64 writes of 100 bytes: back to back, or with an await between them as an async data source makes.
        app.MapGet("/chatty", async (HttpContext context) =>
        {
            Record(context, connections);
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(s_piece);
            }
        });
        // The ceiling: the handler itself writes into Kestrel's buffer (GetSpan/Advance) and lets the end of the response flush.
        app.MapGet("/chatty-ideal", async (HttpContext context) =>
        {
            Record(context, connections);
            await context.Response.StartAsync();
            for (var i = 0; i < 64; i++)
            {
                context.Response.BodyWriter.Write(s_piece);
            }
        });
        app.MapGet("/chatty-async-ideal", async (HttpContext context) =>
        {
            Record(context, connections);
            await context.Response.StartAsync();
            for (var i = 0; i < 64; i++)
            {
                context.Response.BodyWriter.Write(s_piece);
                await Task.Yield();
            }
        });
        app.MapGet("/chatty-async", async (HttpContext context) =>
        {
            Record(context, connections);
            for (var i = 0; i < 64; i++)
            {
                await context.Response.Body.WriteAsync(s_piece);
                await Task.Yield();
            }
        });
        // A slow producer: 32 pieces a millisecond apart, never flushed by the app (a report, a log tail).
        app.MapGet("/progress", async (HttpContext context) =>
        {
            for (var i = 0; i < 32; i++)
            {
                await context.Response.Body.WriteAsync(s_piece);
                await Task.Delay(1);
            }
        });
        // Larger responses in small flushes with an await between them: 100 KiB in 1 KiB, 1 MiB in 4 KiB.
        app.MapGet("/kib100", async (HttpContext context) => await WritePiecesAsync(context, 100, 1024));
        app.MapGet("/mib1", async (HttpContext context) => await WritePiecesAsync(context, 256, 4096));
        async Task WritePiecesAsync(HttpContext context, int count, int size)
        {
            Record(context, connections);
            var piece = new byte[size];
            Array.Fill(piece, (byte)'y');
            for (var i = 0; i < count; i++)
            {
                await context.Response.Body.WriteAsync(piece);
                await Task.Yield();
            }
        }

        // Garbage collections and the cork's counters so far, for the quick comparison under load.
        long corks = 0, boundReleases = 0, abortReleases = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name is "tcp_tuning.cork.hold" or "tcp_tuning.cork.release")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "tcp_tuning.cork.hold")
            {
                Interlocked.Add(ref corks, value);
                return;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "tcp_tuning.cork.release.reason")
                {
                    Interlocked.Add(ref tag.Value as string == "abort" ? ref abortReleases : ref boundReleases, value);
                }
            }
        });
        meters.Start();
        app.MapGet("/__stats", () => Results.Text(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {Interlocked.Read(ref corks)} {Interlocked.Read(ref boundReleases)} {OpenFileDescriptors()} {Interlocked.Read(ref abortReleases)} {GC.GetTotalAllocatedBytes(precise: false)}")));
        var allocations = Environment.GetEnvironmentVariable("TCPTUNING_SAMPLE_ALLOCATIONS") == "1" ? new AllocationSampler() : null;
        app.MapGet("/__allocations", () => Results.Text(allocations?.Report(15) ?? "set TCPTUNING_SAMPLE_ALLOCATIONS=1\n"));
        // The managed heap after full, compacting collections: what the process keeps (the memory scenario's idle connections).
        app.MapGet("/__heap", () =>
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            return Results.Text(GC.GetTotalMemory(forceFullCollection: false).ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        app.MapGet("/__sends", () => Results.Text(SendCounter.Read().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        app.MapGet("/__connections", () =>
        {
            var snapshot = connections.Values.ToList();
            connections.Clear();
            return Results.Json(snapshot);
        });

        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Console.WriteLine(string.Join(' ', addresses));
        Console.Out.Flush();

        // Serve until the orchestrator closes our standard input.
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    // Open file descriptors of this process (Linux; -1 elsewhere).
    private static long OpenFileDescriptors() => Directory.Exists("/proc/self/fd") ? Directory.GetFiles("/proc/self/fd").Length : -1;

    private static void Record(HttpContext context, ConcurrentDictionary<string, ConnectionSample> connections)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || !TcpConnectionInfo.TryRead(socket, out var info))
        {
            return;
        }

        var rearms = context.Features.Get<ITcpTuningFeature>()?.QuickAckRearms ?? 0;
        connections.AddOrUpdate(
            context.Connection.Id,
            _ => new ConnectionSample(1, info.SegmentsOut, info.SegmentsOut, info.DataSegmentsOut, info.DataSegmentsOut, rearms, rearms, info.BytesSent, info.BytesSent, info.TotalRetransmits, info.TotalRetransmits, info.PacingRate),
            (_, s) => s with { Requests = s.Requests + 1, LastSegmentsOut = info.SegmentsOut, LastDataSegmentsOut = info.DataSegmentsOut, LastRearms = rearms, LastBytesSent = info.BytesSent, LastRetransmits = info.TotalRetransmits, LastPacingRate = info.PacingRate });
    }
}

/// <summary>Reads the LD_PRELOAD send counter (build/sendcount), or -1 when it is not loaded.</summary>
internal static partial class SendCounter
{
    private static readonly nint s_export = NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "tt_send_count", out var export) ? export : 0;

    public static unsafe long Read() => s_export == 0 ? -1 : ((delegate* unmanaged<long>)s_export)();
}
