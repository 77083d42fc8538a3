using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace AspNetCore.TcpTuning.Http;

/// <summary>Puts <see cref="ResponseFlushMiddleware"/> first in the pipeline, so every body write of the app goes through it.</summary>
internal sealed class ResponseFlushStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<ResponseFlushMiddleware>();
        next(app);
    };
}
