package server

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/plumbhq/plumb/api"
)

// openAPIDoc parses the embedded document, the one /v1/openapi.yaml serves.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	if doc == nil {
		t.Fatal("openapi.yaml is empty")
	}
	return doc
}

// publicRoutes are served without a token and are not in routes().
var publicRoutes = []string{"GET /healthz", "GET /v1/openapi.yaml"}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func TestOpenAPIVersion(t *testing.T) {
	doc := openAPIDoc(t)
	v, _ := doc["openapi"].(string)
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi: %q, want 3.1.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "Plumb API" || info["version"] != "1" {
		t.Errorf("info: title %v, version %v; want Plumb API, 1", info["title"], info["version"])
	}
	schemes, _ := lookup(doc, "#/components/securitySchemes/bearerAuth")
	if s, _ := schemes.(map[string]any); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("bearerAuth security scheme: %v", schemes)
	}
}

// operations lists the document's operations as "METHOD /path".
func operations(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("no paths")
	}
	ops := map[string]map[string]any{}
	for path, item := range paths {
		item, ok := item.(map[string]any)
		if !ok {
			t.Errorf("paths[%s] is not an object", path)
			continue
		}
		for key, op := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			m, ok := op.(map[string]any)
			if !ok {
				t.Errorf("%s %s is not an object", key, path)
				continue
			}
			ops[strings.ToUpper(key)+" "+path] = m
		}
	}
	return ops
}

func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	ops := operations(t, doc)
	routes := append((&Server{}).Routes(), publicRoutes...)
	for _, rt := range routes {
		if ops[rt] == nil {
			t.Errorf("route %s is not in openapi.yaml", rt)
		}
	}
	ids := map[string]string{}
	for op, m := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.yaml documents %s, which is no route", op)
		}
		id, _ := m["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", op)
		} else if other, dup := ids[id]; dup {
			t.Errorf("operationId %s is used by %s and %s", id, op, other)
		}
		ids[id] = op
		if _, ok := m["responses"].(map[string]any); !ok {
			t.Errorf("%s has no responses", op)
		}
		sec, overridden := m["security"]
		public := slices.Contains(publicRoutes, op)
		if public && (!overridden || len(sec.([]any)) != 0) {
			t.Errorf("%s is public but does not say security: []", op)
		}
		if !public && overridden {
			t.Errorf("%s overrides the bearer token security", op)
		}
	}
}

// TestOpenAPIPathParams checks that every {param} of a path is declared
// as a path parameter, on the path or on each operation.
func TestOpenAPIPathParams(t *testing.T) {
	doc := openAPIDoc(t)
	paths := doc["paths"].(map[string]any)
	brace := regexp.MustCompile(`\{([^}]+)\}`)
	declared := func(list any) map[string]bool {
		out := map[string]bool{}
		items, _ := list.([]any)
		for _, p := range items {
			p, _ := p.(map[string]any)
			if ref, ok := p["$ref"].(string); ok {
				v, err := lookup(doc, ref)
				if err != nil {
					continue // TestOpenAPIRefs reports it
				}
				p, _ = v.(map[string]any)
			}
			if p["in"] == "path" && p["required"] == true {
				out[fmt.Sprint(p["name"])] = true
			}
		}
		return out
	}
	for path, item := range paths {
		item := item.(map[string]any)
		onPath := declared(item["parameters"])
		for key, op := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			onOp := declared(op.(map[string]any)["parameters"])
			for _, m := range brace.FindAllStringSubmatch(path, -1) {
				if !onPath[m[1]] && !onOp[m[1]] {
					t.Errorf("%s %s: path parameter {%s} is not declared (in: path, required: true)", strings.ToUpper(key), path, m[1])
				}
			}
		}
	}
}

// TestOpenAPIRoles checks that each operation's description names
// exactly the roles rolePerms lets call it.
func TestOpenAPIRoles(t *testing.T) {
	doc := openAPIDoc(t)
	ops := operations(t, doc)
	line := regexp.MustCompile(`(?m)^Roles: (.*)\.$`)
	for _, rt := range (&Server{}).routes() {
		key := rt.method + " " + rt.path
		op := ops[key]
		if op == nil {
			continue // TestOpenAPIRoutes reports it
		}
		var want []string
		for _, role := range api.Roles {
			if allowed(role, rt.perm) {
				want = append(want, role)
			}
		}
		desc, _ := op["description"].(string)
		m := line.FindStringSubmatch(desc)
		if m == nil {
			t.Errorf("%s: the description has no line \"Roles: %s.\"", key, strings.Join(want, ", "))
			continue
		}
		if got := strings.Split(m[1], ", "); !slices.Equal(got, want) {
			t.Errorf("%s: description says roles %v, rolePerms allows %v", key, got, want)
		}
	}
}

func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	n := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				n++
				s, _ := ref.(string)
				if !strings.HasPrefix(s, "#/components/") {
					t.Errorf("%s: $ref %v does not point into components", path, ref)
				} else if _, err := lookup(doc, s); err != nil {
					t.Errorf("%s: $ref %s: %v", path, s, err)
				}
			}
			for k, e := range v {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("no $ref found; the document cannot be complete")
	}
}

// lookup resolves a local JSON pointer ("#/components/schemas/Asset").
func lookup(doc map[string]any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	var cur any = doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q is not defined", tok)
		}
	}
	return cur, nil
}

// TestOpenAPISchemas checks that every wire type has a schema.
func TestOpenAPISchemas(t *testing.T) {
	doc := openAPIDoc(t)
	for _, name := range []string{"Asset", "AssetInput", "Group", "GroupInput", "Policy", "PolicyDoc", "PolicyDocument",
		"PolicyImport", "Credential", "CredentialInput", "Secrets", "Scan", "ScanInput", "Job", "Schedule", "ScheduleInput",
		"Result", "Token", "TokenInput", "TokenCreated", "AuditEntry", "Problem", "ClaimRequest", "Claim", "Heartbeat",
		"Completion", "ListEnvelope", "AssetList", "GroupList", "PolicyList", "PolicyDocList", "CredentialList", "ScanList",
		"JobList", "ScheduleList", "ResultList", "TokenList", "AuditList"} {
		if _, err := lookup(doc, "#/components/schemas/"+name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}
