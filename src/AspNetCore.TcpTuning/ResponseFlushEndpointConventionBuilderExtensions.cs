using AspNetCore.TcpTuning;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Extension methods on <see cref="IEndpointConventionBuilder"/> for the response-flush policy.
/// </summary>
public static class ResponseFlushEndpointConventionBuilderExtensions
{
    /// <summary>Sets how the endpoints' response bodies are flushed, overriding the Kestrel endpoint's setting.</summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="mode">The flush mode.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithResponseFlush<TBuilder>(this TBuilder builder, ResponseFlushMode mode)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var metadata = new ResponseFlushAttribute(mode);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }
}
