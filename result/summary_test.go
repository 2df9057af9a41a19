package result

import (
	"reflect"
	"testing"

	"github.com/plumbhq/plumb/policy"
)

func TestSummarize(t *testing.T) {
	rs := []Result{
		{CID: 1, Criticality: 5, Status: Pass},
		{CID: 2, Criticality: 5, Status: Fail},
		{CID: 3, Criticality: 1, Status: Pass},
		{CID: 4, Criticality: 1, Status: Error},
		{CID: 5, Criticality: 3, Status: NA},
		{CID: 6, Criticality: 3, Status: NotChecked},
	}
	got := Summarize(rs)
	want := Summary{
		Total: 6, Scored: 4,
		Score:    50, // 2 of 4
		Weighted: 50, // (5 + 1) / (5 + 5 + 1 + 1)
		Coverage: 75, // 3 of 4
		Counts:   map[Status]int{Pass: 2, Fail: 1, Error: 1, NA: 1, NotChecked: 1},
		ByCriticality: map[policy.Criticality]map[Status]int{
			5: {Pass: 1, Fail: 1}, 1: {Pass: 1, Error: 1}, 3: {NA: 1, NotChecked: 1},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Summarize = %+v\nwant %+v", got, want)
	}
}

// A policy's own weights replace the criticality in the weighted score
// only.
func TestSummarizeWeights(t *testing.T) {
	rs := []Result{
		{CID: 1, Criticality: 5, Weight: 100, Status: Fail},
		{CID: 2, Criticality: 1, Weight: 1, Status: Pass},
		{CID: 3, Criticality: 1, Status: Pass}, // no weight: 1
		{CID: 4, Criticality: 3, Weight: 50, Status: NA},
	}
	got := Summarize(rs)
	if got.Score != 66.7 || got.Weighted != 2 { // 2 / (100 + 1 + 1)
		t.Fatalf("score %v weighted %v, want 66.7 and 2", got.Score, got.Weighted)
	}
}

func TestSummaryOfMatchesSummarize(t *testing.T) {
	var rs []Result
	counts := map[policy.Criticality]map[Status]int{}
	for i := range 1000 {
		crit := policy.Criticality(1 + i%5)
		st := Statuses[(i*7)%len(Statuses)]
		rs = append(rs, Result{CID: i, Criticality: crit, Status: st})
		if counts[crit] == nil {
			counts[crit] = map[Status]int{}
		}
		counts[crit][st]++
	}
	counts[0] = map[Status]int{Fail: 0} // a zero count is no count
	got, want := SummaryOf(counts), Summarize(rs)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SummaryOf = %+v\nSummarize = %+v", got, want)
	}
}

func TestSummaryOfNothing(t *testing.T) {
	for _, s := range []Summary{SummaryOf(nil), Summarize(nil)} {
		if s.Total != 0 || s.Scored != 0 || s.Score != 0 || s.Weighted != 0 || s.Coverage != 0 ||
			len(s.Counts) != len(Statuses) || len(s.ByCriticality) != 0 {
			t.Fatalf("empty summary = %+v", s)
		}
	}
}

func TestSummaryExcepting(t *testing.T) {
	counts := map[policy.Criticality]map[Status]int{
		5: {Pass: 1, Fail: 2},
		1: {Pass: 1, Fail: 1, Error: 1},
		3: {NA: 1},
	}
	tests := []struct {
		name     string
		excepted map[policy.Criticality]int
		want     Summary
	}{
		{"none", nil, SummaryOf(counts)},
		{"one critical fail", map[policy.Criticality]int{5: 1}, Summary{
			Total: 7, Scored: 5, Excepted: 1,
			Score:    40,   // 2 of 5
			Weighted: 46.2, // (5 + 1) / (5 + 5 + 1 + 1 + 1)
			Coverage: 80,   // 4 of 5
			Counts:   map[Status]int{Pass: 2, Fail: 2, Error: 1, NA: 1, NotChecked: 0},
			ByCriticality: map[policy.Criticality]map[Status]int{
				5: {Pass: 1, Fail: 1}, 1: {Pass: 1, Fail: 1, Error: 1}, 3: {NA: 1},
			},
		}},
		{"every fail, and more than there are", map[policy.Criticality]int{5: 9, 1: 1, 3: 4}, Summary{
			Total: 7, Scored: 3, Excepted: 3,
			Score:    66.7, // 2 of 3
			Weighted: 85.7, // (5 + 1) / (5 + 1 + 1)
			Coverage: 66.7,
			Counts:   map[Status]int{Pass: 2, Fail: 0, Error: 1, NA: 1, NotChecked: 0},
			ByCriticality: map[policy.Criticality]map[Status]int{
				5: {Pass: 1}, 1: {Pass: 1, Error: 1}, 3: {NA: 1},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummaryExcepting(counts, tt.excepted); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SummaryExcepting = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if counts[5][Fail] != 2 {
		t.Fatal("SummaryExcepting changed its counts")
	}
}
