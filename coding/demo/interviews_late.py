"""How the demo coders coded I6-I10 and how the reviewer settled I6-I9 (the format and the
design: ``coding.demo.interviews``). I6 brings the last new theme, I7 the last new code; I8 and
I9 add nothing new; I10 is still being coded."""

from coding.demo.coding_plan import C

LATE: dict[str, list[C]] = {
    "I6": [
        C(
            "Entry path",
            "I wrote a benchmark for my master's thesis and sent it as a pull request.",
        ),
        C(
            "Newcomer on-ramp",
            "For most newcomers a new evaluation task is their first contribution, because you "
            "need no GPU to write one",
            by="a",
            decide="both",
            why="An on-ramp, and a contribution to evaluation, a kind of work the codebook had no "
            "code for: keep both.",
        ),
        C(
            "Evaluation contributions",
            "For most newcomers a new evaluation task is their first contribution, because you "
            "need no GPU to write one",
            by="b",
        ),
        C(
            "Data contribution and review",
            "We check that the answers are right, that the data may be redistributed and that "
            "the task is not already in some training set.",
            by="a",
            decide="b",
            why="These are evaluation tasks, not training data; B's new code fits better.",
        ),
        C(
            "Evaluation contributions",
            "We check that the answers are right, that the data may be redistributed and that "
            "the task is not already in some training set.",
            by="b",
        ),
        C(
            "Waiting without feedback",
            "Some pull requests wait a month without a word from us, and people give up.",
        ),
        C(
            "Barrier to contribution",
            "There are two of us and forty open requests.",
            by="a",
            decide="a",
            why="Too few reviewers is a process barrier, as the code now reads.",
        ),
        C("Reuse after release", "They run the suite on their own fine-tunes and post the numbers"),
        C(
            "Evaluation contributions",
            "sometimes as a pull request to our leaderboard",
            by="b",
            decide="b",
            why="Results sent to the leaderboard are an evaluation contribution.",
        ),
        C(
            "Support expectations after release",
            "Some of them ask us to evaluate their models for them, which we cannot do.",
        ),
        C(
            "Compute as a gate",
            "We got cloud credits through a company programme, otherwise we could only evaluate "
            "the small ones.",
        ),
        C(
            "Decision making",
            "The maintainers decide on tasks. What the lab releases is decided by our professor "
            "after a lab meeting.",
        ),
        C(
            "Organisational motivation",
            "Every paper that uses the suite cites us, and that matters for grants.",
        ),
        C(
            "Personal motivation",
            "I learn more from reviewing other people's tasks than from most courses.",
        ),
        C("Regular community calls", "the monthly community call"),
        C("Newcomer on-ramp", "the good-first-task label on the tracker"),
    ],
    "I7": [
        C("Entry path", "A friend posted a call for Swahili speakers to check a dataset."),
        C(
            "Data contribution and review",
            "I checked five hundred lines, noticed the pipeline was dropping every line with a "
            "diacritic, and fixed it.",
        ),
        C(
            "Newcomer on-ramp",
            "We pick a weekend, someone brings a source, twenty people clean and check it "
            "together on a call",
            by="a",
            decide="edit",
            edit=(
                "Newcomer on-ramp",
                "Through data sprints. We pick a weekend, someone brings a source, twenty people "
                "clean and check it together on a call",
            ),
            why="A sprint is a one-off event, not a recurring call: it is how newcomers start. "
            "Kept as an on-ramp, the span widened to the whole description of the sprint.",
        ),
        C(
            "Regular community calls",
            "We pick a weekend, someone brings a source, twenty people clean and check it "
            "together on a call",
            by="b",
        ),
        C("Data contribution and review", "the working group reviews the data card afterwards"),
        C(
            "Time-zone exclusion",
            "the steering committee meets at what is midnight for me, and that is where things "
            "get decided",
            by="a",
            decide="both",
            why="Both: time zones are a barrier, and the particular pattern, decisions taken at "
            "hours I7 cannot attend, is what A's new code records.",
        ),
        C(
            "Barrier to contribution",
            "Time zones, more than anything. Every working-group call is at five in the "
            "afternoon in Europe, which is fine, but the steering committee meets at what is "
            "midnight for me, and that is where things get decided.",
            by="b",
        ),
        C(
            "Compute as a gate",
            "a training run for Swahili has to be requested and waits for a slot",
        ),
        C(
            "Decision making",
            "The working group writes a proposal, the steering committee decides. They explain "
            "their decisions in the minutes, but nobody from our region sits on the committee.",
        ),
        C(
            "Barrier to contribution",
            "nobody from our region sits on the committee",
            by="b",
            decide="neither",
            why="Who sits on the committee is a matter of governance, coded as decision making "
            "here, not an obstacle to contributing.",
        ),
        C(
            "Seeing one's language in the model",
            "The first time the model answered my mother in Swahili without mixing in English",
        ),
        C(
            "Reuse after release",
            "A student group made a small quantised model that runs on a phone",
        ),
        C(
            "Time-zone exclusion",
            "Rotate the committee meeting time",
            by="a",
            decide="a",
            why="I7's remedy names the same exclusion.",
        ),
        C("Decision making", "give the regional groups a vote"),
    ],
    "I8": [
        C("Reuse after release", "I publish fine-tuned and quantised versions of open models"),
        C(
            "Personal motivation",
            "I wanted a model that writes good Portuguese, and none of them did.",
            by="a",
        ),
        C(
            "Seeing one's language in the model",
            "I wanted a model that writes good Portuguese, and none of them did.",
            by="b",
            decide="b",
            why="The motivation is a language the models did not serve: the more specific code.",
        ),
        C(
            "Entry path",
            "I followed a tutorial, fine-tuned one on a rented GPU, uploaded it, and it got a "
            "thousand downloads in a week.",
        ),
        C(
            "Dependence on the base model's developer",
            "When a new one appears I start again; my old versions are dead within weeks.",
        ),
        C(
            "Licensing and responsible use",
            "Some bases forbid merging with others or require their name in mine. I have taken "
            "models down after a licence changed.",
            b_words="Some bases forbid merging with others or require their name in mine.",
            decide="a",
            why="Taking models down after a licence change is part of what the licence does to "
            "I8's work.",
        ),
        C(
            "Barrier to contribution",
            "Around eighty euros a month in rented GPUs.",
            by="b",
            decide="neither",
            why="The cost of compute is coded “Compute as a gate” on the next sentence; since "
            "the redefinition after I1 the barrier code is for social and process barriers.",
        ),
        C(
            "Compute as a gate",
            "That is the real limit; I could do much more with a proper card.",
        ),
        C(
            "Support expectations after release",
            "People open discussions asking why my version does not run on their phone, as if I "
            "were a company.",
        ),
        C(
            "Evaluation contributions",
            "I run the standard suite on every version and open a pull request to the leaderboard.",
        ),
        C("Newcomer on-ramp", "someone there reviewed my first training script line by line"),
        C("Decision making", "The admins delete spam, and the rest is whoever answers first."),
        C(
            "Personal motivation",
            "Recognition, I suppose. And it is how I learned machine learning without a degree.",
        ),
    ],
    "I9": [
        C(
            "Entry path",
            "I was one of the community fine-tuners. I published a popular variant of the first "
            "release, the programme office noticed, and they hired me.",
        ),
        C(
            "Organisational motivation",
            "the programme office noticed, and they hired me",
            by="a",
            decide="a",
            why="Hiring from the community is one of the reasons the company gave for opening "
            "its models (I5).",
        ),
        C("Guarded training recipe", "We cannot publish it or even describe it in detail"),
        C(
            "Newcomer on-ramp",
            "A newcomer can fine-tune the small model in a free notebook within an hour.",
        ),
        C(
            "Regular community calls",
            "The best of them we invite to the quarterly call with research.",
        ),
        C("Reuse after release", "Derivatives, benchmarks, bug reports"),
        C(
            "Support expectations after release",
            "many people who expect us to debug their deployments",
        ),
        C(
            "Evaluation contributions",
            "We now run a community evaluation track where people submit tasks in their "
            "languages, and several of those tasks went into our internal test set.",
            b_words="We now run a community evaluation track where people submit tasks in their "
            "languages",
            decide="a",
            why="That community tasks reach the internal test set is the point of the passage; "
            "A's span keeps it.",
        ),
        C(
            "Seeing one's language in the model",
            "people submit tasks in their languages",
            by="b",
            decide="neither",
            why="Nothing here says the contributors are moved by seeing their language served; "
            "the passage is about evaluation contributions, coded.",
        ),
        C(
            "Decision making",
            "I can bring community requests to it, but legal and research decide.",
        ),
        C(
            "Licensing and responsible use",
            "Our licence has an acceptable-use policy, and people ask me every week whether "
            "their use case is allowed.",
        ),
        C(
            "Barrier to contribution",
            "A pull request from outside needs a contributor agreement, and some universities "
            "take months to sign it.",
        ),
        C(
            "Personal motivation",
            "When a fine-tuner I helped gets hired somewhere, that is a good day.",
        ),
    ],
    # Still being coded: both layers open, a few codings each, nothing to reconcile yet.
    "I10": [
        C("Entry path", "I was the most active user on the Discord.", by="a"),
        C(
            "Entry path",
            "I kept collecting the prompts where the model failed in Polish and posting them in "
            "one thread",
            by="b",
        ),
        C(
            "Evaluation contributions",
            "Failure cases, translations of the test set and a lot of testing before each release.",
            by="a",
        ),
        C(
            "Evaluation contributions",
            "Last month thirty people tested a beta for a week and found a bug in the chat "
            "template.",
            by="b",
        ),
        C(
            "Newcomer on-ramp",
            "Names in the release notes, a role on the Discord and early access to the next model.",
            by="b",
        ),
        C("Personal motivation", "people care a lot about being named", by="a"),
        C(
            "Dependence on the base model's developer",
            "we do not know ourselves until the base model's developer publishes something",
            by="a",
        ),
    ],
}
