package result

import "github.com/plumbhq/plumb/policy"

// Summary rolls results up. Score = Pass / (Pass + Fail + Error) x 100;
// Weighted uses each result's criticality (1..5) as its weight; Coverage =
// (Pass + Fail) / (Pass + Fail + Error) x 100, the share of scored results
// whose data was obtained. N/A and Not checked never count. With nothing
// scored, Score, Weighted and Coverage are 0 and Scored is 0.
type Summary struct {
	Total         int                                   `json:"total"`
	Scored        int                                   `json:"scored"`
	Score         float64                               `json:"score"`
	Weighted      float64                               `json:"weighted_score"`
	Coverage      float64                               `json:"coverage"`
	Counts        map[Status]int                        `json:"counts"`
	ByCriticality map[policy.Criticality]map[Status]int `json:"by_criticality"`
}

// Summarize computes the summary of rs.
func Summarize(rs []Result) Summary {
	s := Summary{Counts: map[Status]int{}, ByCriticality: map[policy.Criticality]map[Status]int{}}
	for _, st := range Statuses {
		s.Counts[st] = 0
	}
	var wPass, wAll float64
	for _, r := range rs {
		s.Total++
		s.Counts[r.Status]++
		m := s.ByCriticality[r.Criticality]
		if m == nil {
			m = map[Status]int{}
			s.ByCriticality[r.Criticality] = m
		}
		m[r.Status]++
		switch r.Status {
		case Pass:
			wPass += float64(r.Criticality)
			fallthrough
		case Fail, Error:
			wAll += float64(r.Criticality)
			s.Scored++
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
