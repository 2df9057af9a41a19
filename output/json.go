package output

import (
	"bytes"
	"encoding/json"

	"github.com/plumbhq/plumb/result"
)

// jsonWriter renders the report as the versioned JSON document
// (result.SchemaVersion, documented in docs/output-formats.md): indented,
// fields in struct order, map keys sorted, arrays never null, one trailing
// newline.
type jsonWriter struct{}

func (jsonWriter) write(buf *bytes.Buffer, r *result.Report, _ Options) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalize(r)); err != nil {
		return err
	}
	buf.Write(jsonSafe(b.Bytes()))
	return nil
}

// normalize returns a copy of r in the documented shape: the schema field
// set, every array present ([] rather than null) and every policy run
// summarised. r is not modified.
func normalize(r *result.Report) *result.Report {
	out := *r
	out.Schema = result.SchemaVersion
	out.Hosts = make([]result.Host, len(r.Hosts))
	for i, h := range r.Hosts {
		h.Policies = make([]result.PolicyRun, len(r.Hosts[i].Policies))
		for j, pr := range r.Hosts[i].Policies {
			pr.Summary = summaryOf(&pr)
			pr.Results = make([]result.Result, len(r.Hosts[i].Policies[j].Results))
			for k, res := range r.Hosts[i].Policies[j].Results {
				if res.Actual == nil {
					res.Actual = []string{}
				}
				pr.Results[k] = res
			}
			h.Policies[j] = pr
		}
		out.Hosts[i] = h
	}
	return &out
}
