using AspNetCore.TcpTuning;

var builder = WebApplication.CreateBuilder(args);

// Reads the "TcpTuning" section of appsettings.json and applies it per Kestrel endpoint.
builder.WebHost.UseTcpTuning();

var app = builder.Build();

app.MapGet("/", (HttpContext context) =>
{
    var tuning = context.Features.Get<ITcpTuningFeature>();
    return Results.Ok(new
    {
        endpoint = tuning?.EndpointName ?? "(defaults)",
        applied = tuning?.AppliedOptions ?? [],
        skipped = tuning?.SkippedOptions ?? [],
        failed = tuning?.FailedOptions ?? [],
    });
});

app.Run();

/// <summary>Lets tests start this app with WebApplicationFactory.</summary>
public partial class Program;
