using System.Net;
using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Listener;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Extension methods on <see cref="ListenOptions"/> for TCP settings of endpoints defined in code.
/// </summary>
public static class ListenOptionsTcpTuningExtensions
{
    /// <summary>
    /// Gives this endpoint its own TCP settings, overriding <see cref="TcpTuningOptions.Defaults"/> key by key.
    /// Requires <c>UseTcpTuning()</c> on the web host builder.
    /// </summary>
    /// <param name="listenOptions">The endpoint.</param>
    /// <param name="configure">Sets the endpoint's settings.</param>
    /// <returns>The <see cref="ListenOptions"/>.</returns>
    /// <remarks>Endpoints that are not TCP (Unix-domain sockets, named pipes) are left as they are.</remarks>
    public static ListenOptions UseTcpTuning(this ListenOptions listenOptions, Action<TcpProfile> configure)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentNullException.ThrowIfNull(configure);

        if (listenOptions.EndPoint is not IPEndPoint)
        {
            return listenOptions;
        }

        var services = listenOptions.ApplicationServices;
        var handoff = services.GetService<CodeProfileHandoff>()
            ?? throw new InvalidOperationException("ListenOptions.UseTcpTuning requires builder.WebHost.UseTcpTuning() to be called first.");

        var profile = new TcpProfile();
        configure(profile);

        listenOptions.Use(next =>
        {
            // Runs while Kestrel builds this endpoint's pipeline, right before it binds the endpoint; options are final by now.
            var options = services.GetRequiredService<IOptions<TcpTuningOptions>>().Value;
            var errors = services.GetRequiredService<TcpTuningOptionsValidator>()
                .ValidateProfile($"ListenOptions.UseTcpTuning({listenOptions.EndPoint})", profile, options.Defaults, options.Strict);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(nameof(TcpProfile), typeof(TcpProfile), errors);
            }

            handoff.Offer(profile);
            return next;
        });

        return listenOptions;
    }
}
