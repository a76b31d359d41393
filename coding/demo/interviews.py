"""How the two demo coders coded each demo interview, and how the reviewer settled where they
differed.

Every interview is coded independently by the primary coder (A, "coder1") and the second coder
(B, "coder2"). A coding is written as the words it covers, which must occur once in the
transcript. Where the layers differ, the coding that opens the disagreement carries the
reviewer's decision and rationale; ``coding.demo.analysis`` refuses a disagreement without one,
and a decision whose disagreement did not arise, so the two stay in step.

The design gives the saturation curve something real to show: most codes and themes appear in
I1-I2, each of I3-I6 brings one new theme (through a code found in it), I7 one last code under an
existing theme, I8 and I9 nothing new. I10 is still being coded.
"""

from coding.demo.coding_plan import C
from coding.demo.interviews_late import LATE

EARLY: dict[str, list[C]] = {
    "I1": [
        C("Entry path", "I filed an issue about a broken deduplication script"),
        C(
            "Data contribution and review",
            "Two reviewers from the group check the licence and a random sample",
        ),
        C(
            "Data contribution and review",
            "we ask a native speaker from the community to look at a hundred lines",
        ),
        C(
            "Barrier to contribution",
            "Compute, first.",
            by="b",
            decide="neither",
            why="As agreed at the debriefing after I1: missing compute is coded “Compute as a "
            "gate”, which A applied to this answer; “Barrier to contribution” is kept for social "
            "and process barriers.",
        ),
        C(
            "Compute as a gate",
            "nobody outside the sponsored cluster can run a training ablation",
            by="a",
            decide="a",
            why="Compute access, not skill or time, keeps these contributors from showing that "
            "their data helps.",
        ),
        C("Barrier to contribution", "Some of them drift away in that gap."),
        C(
            "Seeing one's language in the model",
            "the model could finally answer simple questions in Yoruba",
            by="a",
            decide="a",
            why="A's new code is the more specific reading: the students were moved by their "
            "own language being served.",
        ),
        C(
            "Personal motivation",
            "the model could finally answer simple questions in Yoruba",
            by="b",
        ),
        C("Decision making", "The working group proposes, the steering committee signs off."),
        C(
            "Data contribution and review",
            "A dataset of scraped forum posts was turned down over consent",
        ),
    ],
    "I2": [
        C(
            "Reuse after release",
            "Within two days there were forty fine-tuned variants on the hub",
            b_words="Within two days there were forty fine-tuned variants on the hub, and half "
            "of the questions in our discussion tab were about things we never tested",
            decide="a",
            why="The second half of the sentence is about support questions, coded on its own; "
            "the reuse is the forty variants.",
        ),
        C(
            "Support expectations after release",
            "half of the questions in our discussion tab were about things we never tested",
            by="a",
            decide="a",
            why="A's new code for a pattern the codebook lacked: users asking the lab about what "
            "they built on the model.",
        ),
        C(
            "Support expectations after release",
            "We had not planned for people asking us to support their fine-tunes.",
            by="a",
            decide="both",
            why="Both hold: the fine-tunes are reuse, and the requests to support them are what "
            "the new code names.",
        ),
        C(
            "Reuse after release",
            "We had not planned for people asking us to support their fine-tunes.",
            by="b",
        ),
        C("Newcomer on-ramp", "we started inviting the most active fine-tuners to a monthly call"),
        C("Organisational motivation", "Partly reputation, I will not pretend otherwise."),
        C(
            "Organisational motivation",
            "mostly because the community finds failure modes faster than our own red team",
            by="a",
            decide="a",
            why="These are the lab's reasons for releasing openly, not I2's own; I2's personal "
            "reasons come later in the interview.",
        ),
        C(
            "Personal motivation",
            "the community finds failure modes faster than our own red team",
            by="b",
        ),
        C("Entry path", "nobody else wanted to write the model card, so I did"),
        C(
            "Data contribution and review",
            "a few people sent corrections to the filtering rules, which we reviewed like any "
            "pull request",
        ),
        C("Compute as a gate", "only lab members have accounts on it"),
        C(
            "Decision making",
            "our lab lead does, after a review meeting where anyone in the lab can object",
        ),
        C(
            "Barrier to contribution",
            "Outside contributors can open issues, but they do not sit in that meeting.",
            by="a",
            decide="a",
            why="Under the sharpened definition a process that keeps outsiders out of the room "
            "is a barrier to contribution.",
        ),
        C(
            "Personal motivation",
            "Watching someone in another country build something we never imagined on top of "
            "our model.",
        ),
    ],
    "I3": [
        C(
            "Entry path",
            "Zaczęło się od tłumaczeń. Zgłosiłam poprawki do polskiego zbioru instrukcji",
        ),
        C(
            "Waiting without feedback",
            "nie wiedziałam, czy moje poprawki ktoś w ogóle przejrzy",
            by="a",
            decide="a",
            why="Not a general barrier: I3 did not know whether anyone would look at the "
            "corrections, which is what A's new code names. B agreed once both layers were in.",
        ),
        C(
            "Barrier to contribution",
            "nie wiedziałam, czy moje poprawki ktoś w ogóle przejrzy",
            by="b",
        ),
        C(
            "Personal motivation",
            "Ludzie. Co tydzień jest spotkanie dla osób pracujących nad językami europejskimi i "
            "tam naprawdę można się czegoś nauczyć.",
        ),
        C(
            "Regular community calls",
            "Co tydzień jest spotkanie dla osób pracujących nad językami europejskimi",
            by="a",
            decide="a",
            why="The weekly meeting is a recurring practice worth following across cases; A's "
            "second new code in I3 captures it.",
        ),
        C(
            "Seeing one's language in the model",
            "miło jest zobaczyć, że model lepiej odmienia nazwiska",
        ),
        C(
            "Data contribution and review",
            "Dostajemy próbkę stu przykładów i oceniamy, czy tłumaczenie jest naturalne i czy "
            "licencja źródła pozwala go użyć.",
        ),
        C(
            "Barrier to contribution",
            "Robimy to po pracy, wieczorami, a kolejka zgłoszeń rośnie szybciej, niż jesteśmy w "
            "stanie ją przejrzeć.",
        ),
        C(
            "Waiting without feedback",
            "Niektórzy autorzy czekają tygodniami i rezygnują.",
            by="a",
            decide="a",
            why="Contributors who hear nothing for weeks and leave: the new code's core case.",
        ),
        C(
            "Decision making",
            "Formalnie komitet sterujący, ale my tego nie widzimy.",
            b_words="Formalnie komitet sterujący, ale my tego nie widzimy. Wysyłamy rekomendację "
            "i potem po prostu pojawia się nowa wersja zbioru.",
            decide="b",
            why="The recommendation the reviewers send is part of how the decision is made; B's "
            "longer span keeps it.",
        ),
        C("Compute as a gate", "nie mogę sama sprawdzić, czy moje dane coś zmieniły w modelu"),
        C(
            "Newcomer on-ramp",
            "Ktoś przychodzi posłuchać, a po dwóch tygodniach dostaje pierwszą paczkę przykładów "
            "do sprawdzenia.",
        ),
        C(
            "Regular community calls",
            "Najczęściej przez to cotygodniowe spotkanie.",
            by="a",
            decide="a",
            why="Newcomers come in through the same weekly call.",
        ),
    ],
    "I4": [
        C(
            "Entry path",
            "A friend and I fine-tuned a small model on Czech court decisions over a weekend, "
            "put it on the hub, and a law firm wrote to us on Monday.",
        ),
        C(
            "Compute as a gate",
            "Pre-training even a seven-billion model would cost more than our whole seed round.",
        ),
        C(
            "Barrier to contribution",
            "We live on someone else's roadmap. When a new version of the base model comes out, "
            "our customers ask for it the next day, and we redo the whole tuning and evaluation.",
            by="a",
        ),
        C(
            "Dependence on the base model's developer",
            "We live on someone else's roadmap. When a new version of the base model comes out, "
            "our customers ask for it the next day, and we redo the whole tuning and evaluation.",
            by="b",
            decide="b",
            why="Nothing keeps I4 from contributing here; I4 describes depending on the base "
            "model's release schedule, which B's new code names.",
        ),
        C(
            "Dependence on the base model's developer",
            "We never know what is coming or when.",
            by="b",
            decide="b",
            why="The same dependence: the base model's developer sets the pace.",
        ),
        C(
            "Licensing and responsible use",
            "The licence says what we may call our model, which uses are forbidden, and that we "
            "have to pass those rules on to our users. Our lawyer reads every new version of it "
            "before we touch the weights.",
            b_words="The licence says what we may call our model, which uses are forbidden, and "
            "that we have to pass those rules on to our users.",
            decide="a",
            why="The lawyer reading every new version is part of how the licence constrains the "
            "company; A's span keeps it.",
        ),
        C(
            "Licensing and responsible use",
            "Half of our instruction data was generated with a commercial model whose terms do "
            "not let us publish it",
        ),
        C(
            "Data contribution and review",
            "so we release the weights and a data card, not the data",
            by="a",
            decide="neither",
            why="No data is contributed or reviewed here: I4 explains what the terms keep them "
            "from publishing, coded as licensing.",
        ),
        C(
            "Reuse after release",
            "Within a day someone has made quantised versions for laptops, and a few people "
            "merge our model with others.",
        ),
        C(
            "Newcomer on-ramp",
            "Users post prompts where the model fails in Slovak, and once a month we turn the "
            "best of them into a test set and thank everyone by name in the release notes.",
        ),
        C("Organisational motivation", "An open model on the hub is our shop window"),
        C(
            "Support expectations after release",
            "People expect free support. They deploy our model on hardware we have never seen "
            "and open issues when it is slow.",
        ),
        C("Decision making", "My co-founder and I decide, but we run a poll on Discord first"),
        C(
            "Seeing one's language in the model",
            "seeing Slovak grandmothers use a chatbot in their own language",
        ),
        C(
            "Personal motivation",
            "Honestly, seeing Slovak grandmothers use a chatbot in their own language. My own "
            "grandmother included.",
            by="b",
            decide="b",
            why="I4 answers the question about personal motivation, and the language is the "
            "reason: both codes apply.",
        ),
    ],
    "I5": [
        C(
            "Entry path",
            "When the first open-weight release was approved, someone had to own the "
            "relationship with the outside world",
        ),
        C(
            "Organisational motivation",
            "If developers build on our models, they build on our cloud and our tools.",
        ),
        C(
            "Organisational motivation",
            "It also helps hiring, because researchers want to work where their work is public.",
        ),
        C(
            "Guarded training recipe",
            "Not the data mix and not the training recipe. Those are treated as the crown jewels",
            by="a",
            decide="a",
            why="Not an obstacle for contributors: the company keeps its recipe closed while it "
            "opens the weights. A's new code names that.",
        ),
        C(
            "Barrier to contribution",
            "Not the data mix and not the training recipe. Those are treated as the crown jewels",
            by="b",
        ),
        C(
            "Data contribution and review",
            "Every external dataset would need a legal review we cannot staff.",
            by="a",
            decide="both",
            why="Both hold: it says how outside data would be reviewed (in practice, not at "
            "all), and that this keeps outsiders from contributing data.",
        ),
        C(
            "Barrier to contribution",
            "Not to the pre-training. Every external dataset would need a legal review we cannot "
            "staff.",
            by="b",
        ),
        C(
            "Reuse after release",
            "We do take pull requests to the inference and fine-tuning libraries, and those are "
            "very active.",
        ),
        C(
            "Decision making",
            "A release council signs off: research, legal, security and my office. Research "
            "proposes, but legal can stop anything, and it has.",
        ),
        C("Reuse after release", "Thousands of derivatives in the first month."),
        C(
            "Support expectations after release",
            "Enterprise users expect a service-level agreement for a free download.",
        ),
        C(
            "Newcomer on-ramp",
            "We give compute credits to university groups and small teams who build on the model",
            by="a",
            decide="both",
            why="The credits are how the programme draws outside teams in, and they answer the "
            "compute gate: both codes apply.",
        ),
        C(
            "Compute as a gate",
            "We give compute credits to university groups and small teams who build on the model",
            by="b",
        ),
        C(
            "Regular community calls",
            "we invite them to a quarterly call with the research team",
        ),
        C(
            "Barrier to contribution",
            "Every partnership goes through the same legal review as a release, so a student's "
            "project can wait three months for a yes.",
        ),
        C(
            "Waiting without feedback",
            "a student's project can wait three months for a yes",
            by="b",
            decide="neither",
            why="The student does hear back, after a long review: the delay is a barrier "
            "(coded), not waiting without feedback.",
        ),
        C(
            "Personal motivation",
            "The moment a hobbyist's fine-tune beats our own chat model on a benchmark.",
        ),
    ],
}

PLANS = EARLY | LATE

# The interviews whose layers are submitted and reconciled; the rest stay open.
RECONCILED = ("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9")
