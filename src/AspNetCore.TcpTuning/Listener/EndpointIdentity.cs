using System.Net;

namespace AspNetCore.TcpTuning.Listener;

/// <summary>Which endpoint a listener serves, to find its profile again after a reload.</summary>
/// <param name="Name">The named endpoint, if any.</param>
/// <param name="CodeProfile">Settings from <c>ListenOptions.UseTcpTuning</c>, if any.</param>
/// <param name="EndPoint">The endpoint Kestrel bound.</param>
internal sealed record EndpointIdentity(string? Name, TcpProfile? CodeProfile, EndPoint EndPoint);
