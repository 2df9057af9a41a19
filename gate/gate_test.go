package gate

import (
	"reflect"
	"testing"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      []string
		want    Criteria
		wantErr bool
	}{
		{in: nil, want: Criteria{}},
		{in: []string{"fail"}, want: Criteria{States: []result.Status{result.Fail}}},
		{in: []string{"fail,error"}, want: Criteria{States: []result.Status{result.Fail, result.Error}}},
		{in: []string{"error", "critical,urgent"}, want: Criteria{States: []result.Status{result.Error}, Criticalities: []policy.Criticality{policy.Critical, policy.Urgent}}},
		{in: []string{"serious+"}, want: Criteria{States: []result.Status{result.Fail}, Criticalities: []policy.Criticality{policy.Serious, policy.Critical, policy.Urgent}}},
		{in: []string{"FAIL, 5"}, want: Criteria{States: []result.Status{result.Fail}, Criticalities: []policy.Criticality{policy.Urgent}}},
		{in: []string{"fail,fail"}, want: Criteria{States: []result.Status{result.Fail}}},
		{in: []string{"pass"}, wantErr: true},
		{in: []string{"severe"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	rep := &result.Report{Hosts: []result.Host{{Target: "h", Policies: []result.PolicyRun{{ID: "p", Results: []result.Result{
		{CID: 1, Status: result.Fail, Criticality: policy.Urgent},
		{CID: 2, Status: result.Fail, Criticality: policy.Minimal},
		{CID: 3, Status: result.Error, Criticality: policy.Critical},
		{CID: 4, Status: result.Pass, Criticality: policy.Urgent},
		{CID: 5, Status: result.NA, Criticality: policy.Urgent},
	}}}}}}
	tests := []struct {
		name string
		c    Criteria
		want []int
	}{
		{"none", Criteria{}, nil},
		{"fail", Criteria{States: []result.Status{result.Fail}}, []int{1, 2}},
		{"fail+error serious+", Criteria{States: []result.Status{result.Fail, result.Error}, Criticalities: []policy.Criticality{policy.Serious, policy.Critical, policy.Urgent}}, []int{1, 3}},
		{"excluded", Criteria{States: []result.Status{result.Fail}, Exclude: []int{1}}, []int{2}},
	}
	for _, tt := range tests {
		var got []int
		for _, h := range tt.c.Evaluate(rep) {
			got = append(got, h.Result.CID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseCIDs(t *testing.T) {
	got, err := ParseCIDs([]string{"1101, 1102", "1200"})
	if err != nil || !reflect.DeepEqual(got, []int{1101, 1102, 1200}) {
		t.Fatalf("ParseCIDs = %v, %v", got, err)
	}
	if _, err := ParseCIDs([]string{"x"}); err == nil {
		t.Fatal("ParseCIDs(x): want error")
	}
}
