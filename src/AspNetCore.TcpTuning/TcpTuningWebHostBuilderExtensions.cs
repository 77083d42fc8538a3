using AspNetCore.TcpTuning;
using AspNetCore.TcpTuning.Configuration;
using AspNetCore.TcpTuning.Connection;
using AspNetCore.TcpTuning.Diagnostics;
using AspNetCore.TcpTuning.Http;
using AspNetCore.TcpTuning.Listener;
using AspNetCore.TcpTuning.Platform;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Extension methods on <see cref="IWebHostBuilder"/> that add TCP tuning to Kestrel.
/// </summary>
public static class TcpTuningWebHostBuilderExtensions
{
    /// <summary>
    /// Applies TCP settings per Kestrel endpoint from the <c>TcpTuning</c> configuration section.
    /// </summary>
    /// <param name="hostBuilder">The web host builder.</param>
    /// <returns>The web host builder.</returns>
    /// <remarks>
    /// Replaces Kestrel's socket transport with one that sets the configured options on each listen socket and on
    /// each accepted socket before Kestrel reads from it. Invalid settings fail the application at start.
    /// </remarks>
    public static IWebHostBuilder UseTcpTuning(this IWebHostBuilder hostBuilder)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);

        return hostBuilder.ConfigureServices(AddTcpTuning);
    }

    /// <summary>
    /// Applies TCP settings per Kestrel endpoint from the <c>TcpTuning</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    /// <param name="hostBuilder">The web host builder.</param>
    /// <param name="configure">Changes applied on top of configuration.</param>
    /// <returns>The web host builder.</returns>
    public static IWebHostBuilder UseTcpTuning(this IWebHostBuilder hostBuilder, Action<TcpTuningOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        ArgumentNullException.ThrowIfNull(configure);

        return hostBuilder.ConfigureServices(services =>
        {
            AddTcpTuning(services);
            services.Configure(configure);
        });
    }

    private static void AddTcpTuning(IServiceCollection services)
    {
        services.AddMetrics();
        services.AddOptions<TcpTuningOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<TcpTuningOptions>, TcpTuningConfigurationSetup>());
        services.TryAddSingleton<TcpTuningOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TcpTuningOptions>, TcpTuningOptionsValidator>(
            provider => provider.GetRequiredService<TcpTuningOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<SocketTransportOptions>, SocketTransportOptionsSetup>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, ResponseFlushStartupFilter>());
        services.TryAddSingleton<HeldResponseSweeper>();
        services.TryAddSingleton<RouteFlushOverrides>();
        services.TryAddSingleton(TcpPlatform.Current);
        services.TryAddSingleton<SocketOptionWriter>();
        services.TryAddSingleton<TcpTuningMetrics>();
        services.TryAddSingleton<KestrelEndpointCatalog>();
        services.TryAddSingleton<TcpTuningOptionsState>();
        services.TryAddSingleton<EndpointProfileResolver>();
        services.TryAddSingleton<CodeProfileHandoff>();
        services.TryAddSingleton<ListenSocketTuner>();
        services.TryAddSingleton<CorkReleaser>();
        services.TryAddSingleton<DelayedAckStallReporter.Registry>();
        services.TryAddSingleton(provider => new TcpConnectionTuner(
            provider.GetRequiredService<SocketOptionWriter>(),
            provider.GetRequiredService<TcpTuningMetrics>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<TcpConnectionTuner>>(),
            provider.GetRequiredService<CorkReleaser>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IOptions<SocketTransportOptions>>().Value.MaxWriteBufferSize ?? 0,
            provider.GetRequiredService<DelayedAckStallReporter.Registry>(),
            provider.GetRequiredService<TcpPlatform>()));

        // Added, not tried: Kestrel binds with the most recently registered factory that can bind the endpoint.
        if (!services.Any(d => d.ServiceType == typeof(IConnectionListenerFactory) && d.ImplementationType == typeof(TcpTuningConnectionListenerFactory)))
        {
            services.AddSingleton<IConnectionListenerFactory, TcpTuningConnectionListenerFactory>();
        }
    }
}
