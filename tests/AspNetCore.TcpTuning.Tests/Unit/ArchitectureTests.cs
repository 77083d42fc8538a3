using System.Reflection;
using NetArchTest.Rules;

namespace AspNetCore.TcpTuning.Tests.Unit;

/// <summary>
/// The library's layer arrows, read from its IL: the three layers (Listener, Connection, Http) talk to each other only
/// through the per-connection feature, Platform and Diagnostics are leaves, and configuration knows no layer.
/// </summary>
public sealed class ArchitectureTests
{
    private const string Root = "AspNetCore.TcpTuning";
    private static readonly Assembly s_library = typeof(TcpTuningOptions).Assembly;

    // The public types in the root namespace (options, enums, the feature): named one by one, as a namespace rule on
    // the root would match every folder.
    private static readonly string[] s_rootTypes = [.. s_library.GetTypes().Where(t => t.Namespace == Root && !t.IsNested).Select(t => t.FullName!)];

    public static TheoryData<string, string[]> Arrows => new()
    {
        // Leaves: nothing of the library but themselves.
        { "Platform", [.. Folders("Configuration", "Connection", "Diagnostics", "Http", "Listener", "Infrastructure"), .. s_rootTypes] },
        { "Diagnostics", [.. Folders("Configuration", "Connection", "Http", "Listener", "Platform", "Infrastructure"), .. s_rootTypes] },
        { "Infrastructure", [.. Folders("Configuration", "Connection", "Diagnostics", "Http", "Listener", "Platform"), .. s_rootTypes] },
        // Configuration is what every layer reads: it knows none of them.
        { "Configuration", Folders("Connection", "Http", "Listener") },
        // The layers: the listener hands connections on, the connection layer carries bytes, HTTP knows messages.
        { "Listener", Folders("Http") },
        { "Connection", Folders("Http", "Listener") },
        { "Http", [.. Folders("Listener", "Platform"), "System.Net.Sockets"] },
    };

    [Theory]
    [MemberData(nameof(Arrows))]
    public void Folder_DependsOnlyOnWhatItsLayerMay(string folder, string[] forbidden)
    {
        var types = Types.InAssembly(s_library).That().ResideInNamespace($"{Root}.{folder}").GetTypes().ToList();
        Assert.NotEmpty(types);

        var result = Types.InAssembly(s_library).That().ResideInNamespace($"{Root}.{folder}").ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"{folder} must not depend on {string.Join(", ", forbidden)}; these do: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Rule_FailsOnAKnownArrow()
    {
        // The check itself can fail: the HTTP layer does reach the connection layer (through the feature).
        var result = Types.InAssembly(s_library).That().ResideInNamespace($"{Root}.Http").ShouldNot().HaveDependencyOnAny(Folders("Connection")).GetResult();
        Assert.False(result.IsSuccessful);
    }

    private static string[] Folders(params string[] folders) => [.. folders.Select(f => $"{Root}.{f}")];
}
