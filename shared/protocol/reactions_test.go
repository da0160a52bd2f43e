package protocol

import (
	"errors"
	"reflect"
	"testing"
)

func TestReactFrames(t *testing.T) {
	ok := []Frame{
		{Type: TypeReact, Room: "general", CID: "c1", Target: 4, Body: "👍"},
		{Type: TypeUnreact, Room: "general", CID: "c2", Target: 4, Body: "❤️"},
	}
	for _, f := range ok {
		if err := ValidateClient(f); err != nil {
			t.Errorf("ValidateClient(%+v) = %v", f, err)
		}
	}
	bad := map[string]Frame{
		"unknown emoji":   {Type: TypeReact, Room: "general", CID: "c", Target: 4, Body: "🦄"},
		"heart sans VS":   {Type: TypeReact, Room: "general", CID: "c", Target: 4, Body: "❤"},
		"no emoji":        {Type: TypeUnreact, Room: "general", CID: "c", Target: 4},
		"text":            {Type: TypeReact, Room: "general", CID: "c", Target: 4, Body: "👍 nice"},
		"no target":       {Type: TypeReact, Room: "general", CID: "c", Body: "👍"},
		"no cid":          {Type: TypeReact, Room: "general", Target: 4, Body: "👍"},
		"bad room":        {Type: TypeReact, Room: "No Room", CID: "c", Target: 4, Body: "👍"},
		"negative target": {Type: TypeUnreact, Room: "general", CID: "c", Target: -1, Body: "👍"},
	}
	for name, f := range bad {
		var de *DecodeError
		if err := ValidateClient(f); !errors.As(err, &de) || de.Code != ErrBadRequest {
			t.Errorf("%s: ValidateClient = %v, want bad_request", name, err)
		}
	}
}

func TestReactionEvents(t *testing.T) {
	msg := Message{Room: "general", Offset: 3, Author: "ann", Body: "hi", TS: 1,
		Reactions: []Reaction{{Emoji: "👍", Count: 2, Users: []string{"ann", "bo"}}}, Reacted: 5}
	ev := Message{Room: "general", Offset: 5, Author: "bo", Body: "👍", TS: 2, Kind: MsgReact, Target: 3}
	for _, m := range []Message{msg, ev, {Room: "general", Offset: 6, Author: "bo", Body: "👍", TS: 2, Kind: MsgUnreact, Target: 3}} {
		f := Frame{Type: TypeMsg, Msg: &m}
		b, err := Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateServer(got); err != nil {
			t.Errorf("ValidateServer(%s) = %v", b, err)
		}
		if !reflect.DeepEqual(*got.Msg, m) {
			t.Errorf("round trip: got %+v, want %+v", *got.Msg, m)
		}
	}
	if !ev.IsEvent() || !ev.IsReactionEvent() || msg.IsReactionEvent() {
		t.Error("IsEvent/IsReactionEvent disagree with Kind")
	}
	bad := map[string]Message{
		"target after":  {Room: "general", Offset: 5, Author: "bo", Body: "👍", Kind: MsgReact, Target: 5},
		"no target":     {Room: "general", Offset: 5, Author: "bo", Body: "👍", Kind: MsgUnreact},
		"zero count":    {Room: "general", Offset: 3, Author: "ann", Reactions: []Reaction{{Emoji: "👍"}}},
		"users > count": {Room: "general", Offset: 3, Author: "ann", Reactions: []Reaction{{Emoji: "👍", Count: 1, Users: []string{"a", "b"}}}},
		"no emoji":      {Room: "general", Offset: 3, Author: "ann", Reactions: []Reaction{{Count: 1}}},
	}
	for name, m := range bad {
		if err := ValidateServer(Frame{Type: TypeMsg, Msg: &m}); err == nil {
			t.Errorf("%s: ValidateServer accepted %+v", name, m)
		}
	}
}
