using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AspNetCore.TcpTuning.Tests.Infrastructure;

/// <summary>Handlers several test classes serve, in one place.</summary>
internal static class TestRoutes
{
    /// <summary>A 100-byte write (99 'c' and a newline).</summary>
    public static readonly byte[] Piece = Encoding.ASCII.GetBytes(new string('c', 99) + "\n");

    /// <summary><c>GET /big?kib=N</c>: N writes of 1 KiB, one after another.</summary>
    public static IEndpointRouteBuilder MapBig(this IEndpointRouteBuilder app)
    {
        app.MapGet("/big", async (HttpContext context, int kib) =>
        {
            var block = new byte[1024];
            Array.Fill(block, (byte)'b');
            for (var i = 0; i < kib; i++)
            {
                await context.Response.Body.WriteAsync(block);
            }
        });
        return app;
    }

    /// <summary><paramref name="path"/>: 20 writes of <see cref="Piece"/> with a yield between them, then an exception.</summary>
    public static IEndpointRouteBuilder MapThrowAfterStart(this IEndpointRouteBuilder app, string path)
    {
        app.MapGet(path, async (HttpContext context) =>
        {
            for (var i = 0; i < 20; i++)
            {
                await context.Response.Body.WriteAsync(Piece);
                await Task.Yield();
            }

            throw new InvalidOperationException("after the response started");
        });
        return app;
    }
}
