/**
 * Go text/template semantics, as a table: template → what the docker CLI (Go's text/template, fmt
 * and the CLI's functions) prints for it, or `ERR code: message` (64 for a parse error, as
 * `docker version --format` exits). The expected texts were taken from `docker version --format`
 * (template name "version", data a struct with no fields used here but Client).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goStringMap, goStruct, parseTemplate, TemplateParseError } from "./index.js";

const root = () => goStruct("system.versionInfo", { Client: goStruct("system.clientVersion", { Version: "28.2.2" }) });

function run(tpl: string, data: unknown = root(), name = "version", missingKeyError = false): string {
  try {
    return parseTemplate(tpl, name).execute(data, { missingKeyError });
  } catch (e) {
    if (e instanceof TemplateParseError) return `ERR 64: template parsing error: ${e.message}`;
    return `ERR 1: ${(e as Error).message}`;
  }
}

const GO: [string, string][] = [
  ["{{1.0}} {{1e6}} {{1234567.0}} {{123456.0}} {{0.00001}} {{printf \"%v %T %T\" 1.0 1.0 1}}", "1 1e+06 1.234567e+06 123456 1e-05 1 float64 int"],
  ["{{printf \"%5.2f|%-5s|%5s|%q|%x|%X|%t|%d|%s\" 3.14159 \"ab\" \"cd\" \"q\\\"\" \"hi\" 255 true 42 \"s\"}}", " 3.14|ab   |   cd|\"q\\\"\"|6869|FF|true|42|s"],
  ["{{printf \"%d %s\" \"x\" 3}} {{printf \"%s\"}} {{printf \"%s\" 1 2}}", "%!d(string=x) %!s(int=3) %!s(MISSING) %!s(int=1)%!(EXTRA int=2)"],
  ["{{len nil}}", "ERR 1: template: version:1:2: executing \"version\" at <len nil>: error calling len: reflect: call of reflect.Value.Type on zero Value"],
  ["{{eq 1 1.0}}", "ERR 1: template: version:1:2: executing \"version\" at <eq 1 1.0>: error calling eq: incompatible types for comparison"],
  ["{{print 1 2 \"a\" \"b\" 3 nil}}", "1 2ab3 <nil>"],
  ["{{index \"abc\" 3}}", "ERR 1: template: version:1:2: executing \"version\" at <index \"abc\" 3>: error calling index: reflect: string index out of range"],
  ["{{index \"abc\" 4}}", "ERR 1: template: version:1:2: executing \"version\" at <index \"abc\" 4>: error calling index: index out of range: 4"],
  ["{{slice \"abcdef\" 1 3}}|{{html \"<a&b>\\\"'\"}}|{{js \"a'b\\\"<>=&\\n\"}}|{{urlquery \"a b&c/d\"}}", "bc|&lt;a&amp;b&gt;&#34;&#39;|a\\'b\\\"\\u003C\\u003E\\u003D\\u0026\\u000A|a+b%26c%2Fd"],
  ["{{.Foo", "ERR 64: template parsing error: template: version:1: unclosed action"],
  ["{{", "ERR 64: template parsing error: template: version:1: unclosed action"],
  ["{{}}", "ERR 64: template parsing error: template: version:1: missing value for command"],
  ["{{end}}", "ERR 64: template parsing error: template: version:1: unexpected {{end}}"],
  ["{{else}}", "ERR 64: template parsing error: template: version:1: unexpected {{else}}"],
  ["{{if 1}}x", "ERR 64: template parsing error: template: version:1: unexpected EOF"],
  ["{{if 1}}x{{else}}y{{else}}z{{end}}", "ERR 64: template parsing error: template: version:1: expected end; found {{else}}"],
  ["{{range $i, $e, $f := 1}}{{end}}", "ERR 64: template parsing error: template: version:1: too many declarations in range"],
  ["{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}", "12"],
  ["{{$y}}", "ERR 64: template parsing error: template: version:1: undefined variable \"$y\""],
  ["{{nosuch 1}}", "ERR 64: template parsing error: template: version:1: function \"nosuch\" not defined"],
  ["{{range 3}}{{.}}{{end}}", "012"],
  ["{{range $i, $e := split \"a,b,c\" \",\"}}{{$i}}={{$e}};{{end}}", "0=a;1=b;2=c;"],
  ["{{join (split \"a,b,c\" \",\") \"-\"}}", "a-b-c"],
  ["{{upper \"abc\"}}{{lower \"ABC\"}}{{title \"hello wORLD foo-bar\"}}", "ABCabcHello WORLD Foo-Bar"],
  ["{{pad \"x\" 2 3}}|{{pad \"\" 2 3}}|{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 3}}", "  x   ||abc|ab"],
  ["{{json \"a<b>\"}} {{json 1}} {{json (split \"a,b\" \",\")}} {{json nil}}", "\"a<b>\" 1 [\"a\",\"b\"] null"],
  ["{{if and 1 0}}y{{else}}n{{end}} {{and 1 2}} {{or 0 \"\"}} {{or 0 3}} {{not 0}}", "n 2  3 true"],
  ["{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{ne \"a\" \"b\"}} {{eq \"a\" \"b\" \"a\"}}", "true true true false true true"],
  ["{{lt 1 \"a\"}}", "ERR 1: template: version:1:2: executing \"version\" at <lt 1 \"a\">: error calling lt: incompatible types for comparison"],
  ["{{lt true false}}", "ERR 1: template: version:1:2: executing \"version\" at <lt true false>: error calling lt: invalid type for comparison"],
  ["{{- \"a\" -}}   {{- \"b\" }}  {{/* comment */}} x {{- /* c2 */ -}} y", "ab   xy"],
  ["{{/* unclosed", "ERR 64: template parsing error: template: version:1: unclosed comment"],
  ["{{/* c */ x}}", "ERR 64: template parsing error: template: version:1: comment ends before closing delimiter"],
  ["{{\"unterminated}}", "ERR 64: template parsing error: template: version:1: unterminated quoted string"],
  ["{{`raw\\n`}}{{'a'}}{{printf \"%c%c\" 'h' 105}}{{0x1F}}{{1_000}}{{-5}}{{+3}}", "raw\\n97hi311000-53"],
  ["{{3 | printf \"%d-%s\" \"x\"}}", "%!d(string=x)-%!s(int=3)"],
  ["{{printf \"%s\" | len}}", "12"],
  ["{{\"a\" | \"b\"}}", "ERR 64: template parsing error: template: version:1: non executable command in pipeline stage 2"],
  ["{{(1).X}}", "ERR 1: template: version:1:3: executing \"version\" at <1>: can't evaluate field X in type int"],
  ["{{.X.Y | printf \"%v\"}}", "ERR 1: template: version:1:4: executing \"version\" at <.X.Y>: can't evaluate field X in type system.versionInfo"],
  ["{{with 0}}a{{else}}b{{end}}{{with \"s\"}}{{.}}{{end}}{{with $z := 5}}{{$z}}{{end}}", "bs5"],
  ["{{if 0}}a{{else if 1}}b{{else}}c{{end}}", "b"],
  ["{{range $i, $e := split \"\" \",\"}}[{{$e}}]{{else}}none{{end}}", "[]"],
  ["{{range split \"a,b,c\" \",\"}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a"],
  ["{{range split \"a,b,c\" \",\"}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac"],
  ["{{break}}", "ERR 64: template parsing error: template: version:1: {{break}} outside {{range}}"],
  ["{{printf \"%08.3f|%+d|% d|%x|%#x|%o|%b|%e|%g|%G|%5t|%-8q|%.2s|%U\" 3.14159 5 5 -255 255 8 5 1234.5678 0.000012345 1e21 true \"x\" \"abcdef\" 65}}", "0003.142|+5| 5|-ff|0xff|10|101|1.234568e+03|1.2345e-05|1E+21| true|\"x\"     |ab|U+0041"],
  ["{{printf \"%v\" (split \"a,b\" \",\")}} {{printf \"%q\" (split \"a,b\" \",\")}} {{printf \"%5v|\" (split \"a,b\" \",\")}}", "[a b] [\"a\" \"b\"] [    a     b]|"],
  ["{{printf \"%d%%\" 50}} {{printf \"%!\"}} {{printf \"%z\" 1}}", "50% %!!(MISSING) %!z(int=1)"],
  ["{{index (split \"a,b\" \",\") 1}} {{index (split \"a,b\" \",\") \"x\"}}", "ERR 1: template: version:1:32: executing \"version\" at <index (split \"a,b\" \",\") \"x\">: error calling index: cannot index slice/array with type string"],
  ["{{len \"héllo\"}} {{len (split \"a,b\" \",\")}} {{len 3}}", "ERR 1: template: version:1:45: executing \"version\" at <len 3>: error calling len: len of type int"],
  ["{{slice (split \"a,b,c\" \",\") 1}} {{slice \"abc\" 2 1}}", "ERR 1: template: version:1:34: executing \"version\" at <slice \"abc\" 2 1>: error calling slice: invalid slice index: 2 > 1"],
  ["{{println 1 \"a\" 2}}", "1 a 2\n"],
  ["{{print \"a\" 1 2 \"b\"}}", "a1 2b"],
  ["{{printf \"%s %v\" nil nil}}", "%!s(<nil>) <nil>"],
  ["{{printf \"%.0f %.1f %f\" 2.5 0.05 1e10}}", "2 0.1 10000000000.000000"],
  ["{{printf \"%6.2f|%-8.3e|\" 3.14159 1234.5}}", "  3.14|1.234e+03|"],
  ["{{1 2}}", "ERR 1: template: version:1:2: executing \"version\" at <1>: can't give argument to non-function 1"],
  ["{{nil}}", "ERR 1: template: version:1:2: executing \"version\" at <nil>: nil is not a command"],
  ["{{printf nil}}", "ERR 1: template: version:1:9: executing \"version\" at <nil>: cannot assign nil to string"],
  ["{{lower 3}}", "ERR 1: template: version:1:8: executing \"version\" at <3>: expected string; found 3"],
  ["{{join \"a\" \",\"}}", "ERR 1: template: version:1:7: executing \"version\" at <\"a\">: can't handle \"a\" for arg of type []string"],
  ["{{truncate \"abc\" \"x\"}}", "ERR 1: template: version:1:17: executing \"version\" at <\"x\">: expected integer; found \"x\""],
  ["{{if}}{{end}}", "ERR 64: template parsing error: template: version:1: missing value for if"],
  ["{{range}}{{end}}", "ERR 64: template parsing error: template: version:1: missing value for range"],
  ["{{with $x := 1}}{{end}}{{$x}}", "ERR 64: template parsing error: template: version:1: undefined variable \"$x\""],
  ["{{(print \"a\"}}", "ERR 64: template parsing error: template: version:1: unclosed left paren"],
  ["{{print \"a\")}}", "ERR 64: template parsing error: template: version:1: unexpected right paren"],
  ["{{.A.B}}", "ERR 1: template: version:1:4: executing \"version\" at <.A.B>: can't evaluate field A in type system.versionInfo"],
  ["{{$.A}}", "ERR 1: template: version:1:3: executing \"version\" at <$.A>: can't evaluate field A in type system.versionInfo"],
  ["{{\"\\u00e9\\x41\\101\"}}", "éAA"],
  ["{{'\\n'}}", "10"],
  ["{{99999999999999999999}}", "ERR 64: template parsing error: template: version:1: integer overflow: \"99999999999999999999\""],
  ["{{1.5e400}}", "ERR 64: template parsing error: template: version:1: illegal number syntax: \"1.5e400\""],
  ["{{0x1p4}}", "16"],
  ["{{1e3 | printf \"%v\"}}", "1000"],
  ["{{printf \"%T %T %T %T\" \"\" true (split \"\" \"\") nil}}", "string bool []string <nil>"],
  ["{{index 1 2}}", "ERR 1: template: version:1:2: executing \"version\" at <index 1 2>: error calling index: can't index item of type int"],
  ["{{call 1}}", "ERR 1: template: version:1:2: executing \"version\" at <call 1>: error calling call: non-function 1 of type int"],
  ["{{and}}", "ERR 1: template: version:1:2: executing \"version\" at <and>: wrong number of args for and: want at least 1 got 0"],
  ["{{.Client.Foo}}", "ERR 1: template: version:1:9: executing \"version\" at <.Client.Foo>: can't evaluate field Foo in type system.clientVersion"],
  ["{{- 3}}{{-3}}", "3-3"],
  ["{{3 -}} x", "3x"],
  ["{{3-}}", "ERR 64: template parsing error: template: version:1: bad number syntax: \"3-\""],
  ["{{\"a\" \"b\"}}", "ERR 1: template: version:1:2: executing \"version\" at <\"a\">: can't give argument to non-function \"a\""],
  ["{{printf \"%d\" 3.5}}", "%!d(float64=3.5)"],
  ["{{html 1 2 \"x\"}} {{urlquery \"é\"}} {{js \"é\\u2028\"}}", "1 2x %C3%A9 é\\u2028"],
  ["{{printf \"%x %X % x\" \"héllo\" \"ab\" \"ab\"}}", "68c3a96c6c6f 6162 61 62"],
  ["{{printf \"%3c|%-4d|%04d|%-04d\" 65 7 -7 7}}", "  A|7   |-007|7   "],
  ["{{printf \"%.3d %.0d %5.3d\" 7 0 7}}", "007    007"],
  ["{{printf \"%t %v\" false true}}", "false true"],
  ["{{printf \"%s\" true}}", "%!s(bool=true)"],
  ["{{eq (split \"a\" \",\") (split \"a\" \",\")}}", "ERR 1: template: version:1:2: executing \"version\" at <eq (split \"a\" \",\") (split \"a\" \",\")>: error calling eq: non-comparable type [a]: []string"],
  ["{{eq nil nil}}", "true"],
  ["{{define \"x\"}}hi {{.}}{{end}}{{template \"x\" 5}}|{{template \"x\"}}", "hi 5|hi <no value>"],
  ["{{template \"nope\"}}", "ERR 1: template: version:1:11: executing \"version\" at <{{template \"nope\"}}>: template \"nope\" not defined"],
  ["{{define \"x\"}}{{.Foo}}{{end}}{{template \"x\" 1}}", "ERR 1: template: version:1:16: executing \"x\" at <.Foo>: can't evaluate field Foo in type int"],
  ["{{block \"b\" 3}}[{{.}}]{{end}}", "[3]"],
  ["{{if 1}}{{define \"x\"}}{{end}}{{end}}", "ERR 64: template parsing error: template: version:1: unexpected <define> in command"],
  ["{{template 1}}", "ERR 64: template parsing error: template: version:1: unexpected \"1\" in template clause"],
  ["{{define \"a\"}}{{$}}{{end}}{{$x := 2}}{{template \"a\" $x}}", "2"],
  ["{{define \"x\"}}a{{else}}b{{end}}", "ERR 64: template parsing error: template: version:1: unexpected {{else}} in define clause"],
  ["{{template \"x\" | printf}}", "ERR 64: template parsing error: template: version:1: unexpected \"|\" in template clause"],
];

describe("gotemplate: Go semantics (expected output from the docker CLI)", () => {
  for (const [tpl, want] of GO) it(tpl, () => assert.equal(run(tpl), want));
});

describe("gotemplate: data", () => {
  const data = () =>
    goStruct("types.ContainerJSON", {
      Name: "/c1",
      State: goStruct("types.ContainerState", { Status: "running", Running: true, Pid: 42, ExitCode: 0 }),
      Config: goStruct("container.Config", { Env: ["A=1", "B=2"], Labels: goStringMap({ b: "two", a: "1" }) }),
      NetworkSettings: goStruct("types.NetworkSettings", { Networks: { net1: goStruct("network.EndpointSettings", { IPAddress: "10.0.0.2" }) } }),
      Nothing: null,
    });
  const table: [string, string][] = [
    ["{{.Name}} {{.State.Status}} {{.State.Pid}}", "/c1 running 42"],
    ["{{.Config.Labels}}", "map[a:1 b:two]"],
    ["{{.Config.Env}}", "[A=1 B=2]"],
    ["{{.State}}", "{running true 42 0}"],
    ["{{.Config.Labels.zz}}|{{index .Config.Labels \"zz\"}}|", "<no value>||"],
    ["{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=two;"],
    ["{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "10.0.0.2"],
    ["{{json .Config.Labels}}", "{\"a\":\"1\",\"b\":\"two\"}"],
    ["{{json .State}}", "{\"Status\":\"running\",\"Running\":true,\"Pid\":42,\"ExitCode\":0}"],
    ["{{.Nothing}}", "<nil>"],
    ["{{join .Config.Env \",\"}}", "A=1,B=2"],
    ["{{if eq .State.Status \"running\"}}up{{else}}down{{end}}", "up"],
    ["{{.State.Foo}}", "ERR 1: template: :1:8: executing \"\" at <.State.Foo>: can't evaluate field Foo in type types.ContainerState"],
    ["{{.Nothing.X}}", "ERR 1: template: :1:10: executing \"\" at <.Nothing.X>: nil pointer evaluating <nil>.X"],
    ["{{len .Config.Labels}} {{len .Config.Env}}", "2 2"],
  ];
  for (const [tpl, want] of table) it(tpl, () => assert.equal(run(tpl, data(), ""), want));

  it("missingkey=error over plain JSON (docker inspect's second try)", () => {
    const raw = JSON.parse(JSON.stringify(data()));
    assert.equal(run("{{.Foo}}", raw, "", true), "ERR 1: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
    assert.equal(run("{{.State}}", raw, "", true), "map[ExitCode:0 Pid:42 Running:true Status:running]");
    assert.equal(run("{{.Nothing}}", raw, "", true), "<no value>");
    assert.equal(run("{{.Nothing.X}}", raw, "", true), "ERR 1: template: :1:10: executing \"\" at <.Nothing.X>: nil pointer evaluating interface {}.X");
  });

  it("methods of a struct take the template's arguments", () => {
    const row = goStruct("*formatter.ContainerContext", { Label: (k: string) => ({ a: "1" } as Record<string, string>)[k] ?? "" });
    assert.equal(run("{{.Label \"a\"}}|{{.Label \"b\"}}", row, ""), "1|");
  });
});
