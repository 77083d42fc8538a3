using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace TcpTuning.Reliability;

/// <summary>One step of a response script.</summary>
internal enum StepKind
{
    BodyWrite,
    BodyWriterWrite,
    TextWrite,
    AdvanceFlush,
    AdvanceOnly,
    SendFile,
    ExplicitFlush,
    WriterFlush,
    Yield,
    Delay,
    ReadBody,
}

internal sealed record Step(StepKind Kind, int Size);

/// <summary>
/// A seeded random response: how the handler writes (sizes, APIs, flushes, awaits), its framing (Content-Length right,
/// short, long or none), status, method, and how it ends (return, throw, abort, CompleteAsync).
/// </summary>
internal sealed record ResponseScript(int Seed, string Method, int Status, string? ContentType, string LengthMode, long? ContentLength, IReadOnlyList<Step> Steps, string Ending, int RequestBodyLength)
{
    public static ResponseScript Generate(int seed)
    {
        var random = new Random(seed);
        var method = Pick(random, ("GET", 80), ("HEAD", 8), ("POST", 12));
        var status = Pick(random, (200, 84), (204, 5), (304, 3), (404, 8));
        var contentType = random.Next(100) < 5 ? "text/event-stream" : null;
        var steps = new List<Step>();
        var writes = random.Next(0, 13);
        long total = 0;
        var readAt = method == "POST" ? random.Next(0, writes + 1) : -1;
        for (var i = 0; i < writes; i++)
        {
            if (i == readAt)
            {
                steps.Add(new Step(StepKind.ReadBody, 0));
            }

            var size = Pick(random, (0, 60), (1, 30), (2, 10)) switch
            {
                0 => random.Next(1, 200),
                1 => random.Next(200, 8000),
                _ => random.Next(8000, 100_000),
            };
            var kind = Pick(random, (StepKind.BodyWrite, 30), (StepKind.BodyWriterWrite, 15), (StepKind.TextWrite, 20), (StepKind.AdvanceFlush, 20), (StepKind.AdvanceOnly, 10), (StepKind.SendFile, 5));
            steps.Add(new Step(kind, size));
            total += size;
            var between = Pick(random, (StepKind.BodyWrite, 40), (StepKind.Yield, 30), (StepKind.Delay, 18), (StepKind.ExplicitFlush, 8), (StepKind.WriterFlush, 4));
            if (between != StepKind.BodyWrite)
            {
                steps.Add(new Step(between, between == StepKind.Delay ? random.Next(1, 4) : 0));
            }
        }

        if (readAt == writes)
        {
            steps.Add(new Step(StepKind.ReadBody, 0));
        }

        var lengthMode = Pick(random, ("none", 55), ("right", 30), ("short", 8), ("long", 7));
        long? contentLength = lengthMode switch
        {
            "right" => total,
            "short" => Math.Max(0, total - random.Next(1, 50)),
            "long" => total + random.Next(1, 50),
            _ => null,
        };
        var ending = Pick(random, ("return", 88), ("throw", 6), ("abort", 2), ("complete", 4));
        return new ResponseScript(seed, method, status, contentType, lengthMode, contentLength, steps, ending, method == "POST" ? random.Next(1, 5000) : 0);
    }

    /// <summary>Runs the script as a handler. Exceptions (the app's or Kestrel's) go to the server, as a handler's would.</summary>
    public async Task RunAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = Status;
        if (ContentType is not null)
        {
            response.ContentType = ContentType;
        }

        if (ContentLength is { } length)
        {
            response.ContentLength = length;
        }

        context.Features.GetRequiredFeature<IHttpBodyControlFeature>().AllowSynchronousIO = true;
        var index = 0;
        foreach (var step in Steps)
        {
            if (Ending == "throw" && index == Steps.Count / 2 && Steps.Count > 0)
            {
                throw new InvalidOperationException($"script {Seed} throws");
            }

            index++;
            var fill = (byte)('g' + (index % 20));
            switch (step.Kind)
            {
                case StepKind.BodyWrite:
                    await response.Body.WriteAsync(Fill(step.Size, fill));
                    break;
                case StepKind.BodyWriterWrite:
                    await response.BodyWriter.WriteAsync(Fill(step.Size, fill));
                    break;
                case StepKind.TextWrite:
                    await response.WriteAsync(new string((char)fill, step.Size));
                    break;
                case StepKind.AdvanceFlush:
                    AdvanceInPieces(response.BodyWriter, step.Size, fill);
                    await response.BodyWriter.FlushAsync();
                    break;
                case StepKind.AdvanceOnly:
                    AdvanceInPieces(response.BodyWriter, step.Size, fill);
                    break;
                case StepKind.SendFile:
                    await response.SendFileAsync(FileOf(step.Size, fill));
                    break;
                case StepKind.ExplicitFlush:
                    await response.Body.FlushAsync();
                    break;
                case StepKind.WriterFlush:
                    await response.BodyWriter.FlushAsync();
                    break;
                case StepKind.Yield:
                    await Task.Yield();
                    break;
                case StepKind.Delay:
                    await Task.Delay(step.Size);
                    break;
                case StepKind.ReadBody:
                    var buffer = new byte[4096];
                    while (await context.Request.Body.ReadAsync(buffer) > 0)
                    {
                    }

                    break;
            }
        }

        switch (Ending)
        {
            case "throw":
                throw new InvalidOperationException($"script {Seed} throws at its end");
            case "abort":
                context.Abort();
                break;
            case "complete":
                await response.CompleteAsync();
                break;
        }
    }

    /// <summary>The body the handler writes if nothing fails: every write's fill bytes, in order, up to a throw.</summary>
    public byte[] IntendedBody()
    {
        var body = new List<byte>();
        var index = 0;
        foreach (var step in Steps)
        {
            if (Ending == "throw" && index == Steps.Count / 2)
            {
                break;
            }

            index++;
            if (step.Kind is StepKind.BodyWrite or StepKind.BodyWriterWrite or StepKind.TextWrite or StepKind.AdvanceFlush or StepKind.AdvanceOnly or StepKind.SendFile)
            {
                body.AddRange(Fill(step.Size, (byte)('g' + (index % 20))));
            }
        }

        return [.. body];
    }

    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"seed {Seed}: {Method} {Status}{(ContentType is null ? "" : " sse")} length {LengthMode} {ContentLength}; {string.Join(", ", Steps.Select(s => s.Size > 0 ? $"{s.Kind}({s.Size})" : s.Kind.ToString()))}; {Ending}");

    private static byte[] Fill(int size, byte fill)
    {
        var bytes = new byte[size];
        Array.Fill(bytes, fill);
        return bytes;
    }

    private static void AdvanceInPieces(System.IO.Pipelines.PipeWriter writer, int size, byte fill)
    {
        while (size > 0)
        {
            var span = writer.GetSpan(Math.Min(size, 2048));
            var count = Math.Min(span.Length, size);
            span[..count].Fill(fill);
            writer.Advance(count);
            size -= count;
        }
    }

    private static readonly Dictionary<(int, byte), string> s_files = [];

    private static string FileOf(int size, byte fill)
    {
        lock (s_files)
        {
            if (!s_files.TryGetValue((size, fill), out var path))
            {
                path = Path.Combine(Path.GetTempPath(), $"tcptuning-reliability-{Environment.ProcessId}-{size}-{fill}.bin");
                File.WriteAllBytes(path, Fill(size, fill));
                s_files[(size, fill)] = path;
            }

            return path;
        }
    }

    private static T Pick<T>(Random random, params (T Value, int Weight)[] choices)
    {
        var roll = random.Next(choices.Sum(c => c.Weight));
        foreach (var (value, weight) in choices)
        {
            if (roll < weight)
            {
                return value;
            }

            roll -= weight;
        }

        return choices[^1].Value;
    }
}
