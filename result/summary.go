package result

import "github.com/plumbhq/plumb/policy"

// Summary rolls results up. Score = Pass / (Pass + Fail + Error) x 100;
// Weighted is the same ratio with each result counted by its weight: the
// criticality (1..5) unless its policy sets weights; Coverage =
// (Pass + Fail) / (Pass + Fail + Error) x 100, the share of scored results
// whose data was obtained. N/A and Not checked never count. With nothing
// scored, Score, Weighted and Coverage are 0 and Scored is 0.
//
// Excepted counts the Fails an approved, unexpired exception covers
// (Fail (excepted)): they leave the score, so Counts[Fail], ByCriticality,
// Scored, Score, Weighted and Coverage all leave them out. Total counts
// every result, excepted ones too: Total = the sum of Counts + Excepted.
type Summary struct {
	Total         int                                   `json:"total"`
	Scored        int                                   `json:"scored"`
	Excepted      int                                   `json:"excepted,omitempty"`
	Score         float64                               `json:"score"`
	Weighted      float64                               `json:"weighted_score"`
	Coverage      float64                               `json:"coverage"`
	Counts        map[Status]int                        `json:"counts"`
	ByCriticality map[policy.Criticality]map[Status]int `json:"by_criticality"`
}

// Summarize computes the summary of rs.
func Summarize(rs []Result) Summary {
	counts := map[policy.Criticality]map[Status]int{}
	var wPass, wAll float64
	for _, r := range rs {
		m := counts[r.Criticality]
		if m == nil {
			m = map[Status]int{}
			counts[r.Criticality] = m
		}
		m[r.Status]++
		switch r.Status {
		case Pass:
			wPass += float64(r.weight())
			fallthrough
		case Fail, Error:
			wAll += float64(r.weight())
		}
	}
	s := SummaryOf(counts)
	s.SetWeighted(wPass, wAll)
	return s
}

// SetWeighted sets the weighted score from the summed weights of the
// scored results that pass and of all scored results, for callers that
// count weights other than the criticality (a policy's own weights).
func (s *Summary) SetWeighted(pass, scored float64) {
	s.Weighted = 0
	if scored > 0 {
		s.Weighted = round1(100 * pass / scored)
	}
}

// SummaryOf computes the summary of results counted per criticality and
// status (as a database's GROUP BY returns them): the same Summary that
// Summarize gives for the results themselves. Zero counts are dropped
// from ByCriticality, as Summarize never has them; counts is not kept.
func SummaryOf(counts map[policy.Criticality]map[Status]int) Summary {
	return SummaryExcepting(counts, nil)
}

// SummaryExcepting is SummaryOf for results of which some Fails are
// excepted: excepted holds, per criticality, how many of the Fails in
// counts an exception covers (never more than the Fails counted). Neither
// map is kept or changed.
func SummaryExcepting(counts map[policy.Criticality]map[Status]int, excepted map[policy.Criticality]int) Summary {
	s := Summary{Counts: map[Status]int{}, ByCriticality: map[policy.Criticality]map[Status]int{}}
	for _, st := range Statuses {
		s.Counts[st] = 0
	}
	var wPass, wAll float64
	for crit, byStatus := range counts {
		for st, n := range byStatus {
			if n <= 0 {
				continue
			}
			s.Total += n
			if x := excepted[crit]; st == Fail && x > 0 {
				x = min(x, n)
				s.Excepted += x
				if n -= x; n == 0 {
					continue
				}
			}
			s.Counts[st] += n
			m := s.ByCriticality[crit]
			if m == nil {
				m = map[Status]int{}
				s.ByCriticality[crit] = m
			}
			m[st] += n
			switch st {
			case Pass:
				wPass += float64(crit) * float64(n)
				fallthrough
			case Fail, Error:
				wAll += float64(crit) * float64(n)
				s.Scored += n
			}
		}
	}
	if s.Scored > 0 {
		s.Score = round1(100 * float64(s.Counts[Pass]) / float64(s.Scored))
		s.Coverage = round1(100 * float64(s.Counts[Pass]+s.Counts[Fail]) / float64(s.Scored))
	}
	if wAll > 0 {
		s.Weighted = round1(100 * wPass / wAll)
	}
	return s
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
