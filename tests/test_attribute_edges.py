"""Attribution: where a content ends, on small sentences written for the purpose (each rule of
``extract._cut`` and the content edges, one test each)."""

from __future__ import annotations

from newstrace.attribute import attribute_texts


def contents(text: str) -> list[tuple[str, str | None]]:
    """(content, source text) of every attribution in text, the pieces joined by " | "."""
    parsed, _index = attribute_texts([text])
    return [(" | ".join(text[s:e] for s, e in a.content), text[a.source[0]:a.source[1]] if a.source else None)
            for a in parsed[0].attributions]


def test_a_participle_with_its_adverb_is_the_reporters():
    rows = contents("The mayor said she would veto the budget if the council passed it, quietly ending "
                    "months of talks with the unions.")
    assert rows == [("she would veto the budget if the council passed it", "The mayor")]


def test_a_single_quotation_mark_opened_in_the_content_is_closed_in_it():
    # seed 002's standfirst: the closing ’ stood outside the content, the opening ‘ inside
    rows = contents("Russian leader says Moscow is willing to negotiate over Ukraine, slams West for trying to "
                    "‘tear apart historical Russia’.")
    assert ("West for trying to ‘tear apart historical Russia’", "Russian leader") in rows
    assert contents("He said the party’s plan was dead.") == [("the party’s plan was dead", "He")]


def test_a_comma_attached_to_the_verb_still_ends_the_content():
    # the parse hangs the comma and the participle on "called", outside the object's subtree
    rows = contents("The nurses' union called Ms. Ortiz a “true ally” of its members, citing her votes on "
                    "staffing levels.")
    assert rows[0] == ("Ms. Ortiz a “true ally” of its members", "The nurses' union")


def test_the_comma_a_quotation_ends_with_sets_off_a_relative():
    rows = contents("Mr. Hale denounced the “reform package,” which had passed the senate a week earlier "
                    "with little debate.")
    assert rows == [("the “reform package,”", "Mr. Hale")]


def test_a_dash_after_a_quoted_fragment_opens_the_reporters_aside():
    rows = contents("The senator compared the new rules to “a bonfire of the charter” - a charge that the "
                    "governor's office rejected.")
    assert rows == [("the new rules to “a bonfire of the charter”", "The senator")]
    # two dashes set off an aside inside what was said: the content runs on
    rows = contents("She said the plan - drafted in “great haste” - would cost the city millions.")
    assert rows == [("the plan - drafted in “great haste” - would cost the city millions", "She")]


def test_a_second_verb_of_saying_joined_inside_the_content_is_a_statement_of_its_own():
    rows = contents("The ministry said it was “firmly opposed” to the launch and warned the neighbouring "
                    "state to refrain from further tests.")
    assert rows == [("it was “firmly opposed” to the launch", "The ministry"),
                    ("the neighbouring state to refrain from further tests", "The ministry")]


def test_the_objects_predicate_with_as_is_part_of_what_is_said():
    rows = contents("The governor described his challenger as a reckless gambler with the state's money.")
    assert rows == [("his challenger as a reckless gambler with the state's money", "The governor")]


def test_verbs_joined_to_the_cue_in_the_complements_form_belong_to_the_complement():
    rows = contents("The mayor vowed to triple the size of the housing fund, grow the parks budget and create a "
                    "new youth jobs programme.")
    assert rows == [("to triple the size of the housing fund, grow the parks budget and create a new youth jobs "
                     "programme", "The mayor")]


def test_a_that_clause_reports_a_belief_or_finding_with_any_verb_or_adjective():
    # sentences the parser sees for a quotation mark or a cue elsewhere in them: the cheap filter does
    # not pass a sentence for its "that" alone
    rows = contents("Auditors have discovered that the fund lost millions in a “reckless” bond deal. "
                    "Many farmers are afraid that the new tariffs will close their markets, and they want talks.")
    assert ("that the fund lost millions in a “reckless” bond deal", "Auditors") in rows
    assert ("that the new tariffs will close their markets", "Many farmers") in rows


def test_a_copula_or_it_with_a_that_clause_reports_nothing():
    rows = contents("The “real” trouble is that nobody checked the figures. It turns out, “sadly”, that the vote was delayed.")
    assert rows == []
    # "it appears that …" is an inference with no source (test_attribute_lexicon), not a view of "it"
    assert contents("It appears, “sadly”, that the vote was delayed.") == [("that the vote was delayed", None)]


def test_a_gerund_of_saying_after_a_preposition_has_the_verbs_subject():
    rows = contents("The senator closed the hearing by saying the whole affair had been “a disgrace”.")
    assert rows == [("the whole affair had been “a disgrace”", "The senator")]


def test_a_clause_before_a_framed_quotation_starts_after_its_own_verb_of_saying():
    rows = contents("Ms. Reyes said she backed the plan because “the city cannot wait any longer,” she said.")
    assert rows == [("she backed the plan because “the city cannot wait any longer,”", "she")]


def test_what_a_preposition_introduces_after_a_verb_of_addressing_is_what_is_said():
    rows = contents("The minister said the border would stay open and warned against false rumours of a closure.")
    assert rows == [("the border would stay open", "The minister"), ("false rumours of a closure", "The minister")]


def test_a_passive_cue_with_no_agent_has_no_source():
    rows = contents("The new bridge is expected to open before the winter, and the mayor said it would ease traffic.")
    assert ("The new bridge is expected to open before the winter", None) in rows  # the raised subject too
    rows = contents("The new bridge is expected by engineers to open before the winter.")
    assert rows == [("to open before the winter", "engineers")]


def test_a_complement_clause_follows_its_verb_not_the_fronted_adverbial_before_the_subject():
    # the parse also hangs the fronted clause on the cue as a second complement
    rows = contents("While she conceded money was a large part of the problem, the coach also noted several "
                    "“small things” left the team worn out.")
    assert ("several “small things” left the team worn out", "the coach") in rows
    rows = contents("Speaking on the radio show on Monday, during which she also discussed the harbour, the mayor "
                    "remarked that she was \"quite pleased\" to be leaving office.")
    assert ("that she was \"quite pleased\" to be leaving office", "the mayor") in rows
    # an object and its predicate after the verb are its complement too
    rows = contents("For that she drew the mayor's ire - he called her \"weak\" and said she had \"zero support\" "
                    "in the city.")
    assert rows[0] == ("her \"weak\"", "he")


def test_a_frame_inside_the_sentence_leaves_out_the_adverbial_before_it_and_a_trailing_participle():
    rows = contents("Two weeks ago, the retired judge said, the press called him a \"lost cause,\" shaking his head.")
    assert rows == [("the press called him a \"lost cause,\"", "the retired judge")]
    # with the subject before the frame, the subject is what was said
    rows = contents("Her countrymen, she said, should not listen to the critics.")
    assert rows == [("Her countrymen, she said, should not listen to the critics", "she")]


def test_a_subordinate_clause_after_a_quoted_object_is_the_frame_and_its_own_cues_report():
    rows = contents("The union chief called the mayor a “fraud” after the mayor cut pensions and blamed the "
                    "deficit on “greedy unions” in the city.")
    assert rows == [("the mayor a “fraud”", "The union chief"),
                    ("the deficit on “greedy unions” in the city", "the mayor")]


def test_a_noun_of_saying_with_a_subject_is_a_mistagged_verb_and_its_subject_the_source():
    # the tagger sometimes reads "claims" after a name as a plural noun; the parse it gives then is this one
    from spacy.tokens import Doc

    from newstrace.attribute.extract import Attribution, _nominal, _Par, nlp

    words = ["But", "Lang", "claims", "that", "he", "should", "be", "the", "exception", "."]
    doc = Doc(nlp().vocab, words=words, spaces=[True] * 8 + [False, False],
              tags=["CC", "NNP", "NNS", "IN", "PRP", "MD", "VB", "DT", "NN", "."],
              heads=[2, 2, 2, 6, 6, 6, 2, 8, 6, 2],
              deps=["cc", "nsubj", "ROOT", "mark", "nsubj", "aux", "ccomp", "det", "attr", "punct"])
    p = _Par(doc, 0, [], doc.text)
    out: list[Attribution] = []
    _nominal(p, [], out)
    assert [(doc.text[slice(*a.content[0])], doc.text[slice(*a.source)] if a.source else None) for a in out] == [
        ("that he should be the exception", "Lang")]


def test_a_verb_of_saying_with_its_own_clause_does_not_frame_the_quoted_title_before_it():
    rows = contents("Appearing on the radio program “Morning Hour,” Senator Bell said the budget would pass by a "
                    "wide margin.")
    assert rows == [("the budget would pass by a wide margin", "Senator Bell")]
    # a clause set off by a comma is not the verb's own: the quotation is still framed
    rows = contents("“We will win,” Bell said, and the crowd cheered.")
    assert rows[0] == ("“We will win,”", "Bell")


def test_a_verb_of_cognition_reports_a_clause_in_a_sentence_with_nothing_else_to_parse():
    rows = contents("Investigators realized the ledger had been altered. The auditors suspected that the "
                    "manager knew.")
    assert rows == [("the ledger had been altered", "Investigators"), ("that the manager knew", "The auditors")]
    # with a noun object it reports nothing: "remembered the house" is no view
    assert contents("She remembered the old house by the river.") == []


def test_a_noun_of_saying_or_an_adjective_of_certainty_before_that_makes_a_sentence_worth_parsing():
    from newstrace.attribute.extract import candidate

    assert candidate("Many farmers are afraid that the tariffs will close their markets.")
    assert candidate("The allegation that the count was rigged spread quickly.")
    # nouns that are also verbs of cognition ("judge", "notice") do not on their own
    assert not candidate("A federal judge in Ohio gave notice on Monday.")
    rows = contents("Many farmers are afraid that the tariffs will close their markets.")
    assert rows == [("that the tariffs will close their markets", "Many farmers")]


def test_the_filter_takes_whole_lower_case_forms_and_according_to():
    from newstrace.attribute.extract import candidate

    assert candidate("Officials said nothing on Monday.")
    assert candidate("According to the mayor, the road will reopen.")
    assert candidate("The road will reopen, according to the mayor.")
    # a capitalised form is a name, a form inside a longer word is no form, a noun form no verb
    assert not candidate("The Washington Post Said Foundation met in United States offices.")
    assert not candidate("The unsaid parts of the peace talks went on.")


def test_a_headline_that_cleaning_takes_out_is_read_like_any_sentence_in_batch():
    from newstrace.attribute.batch import quote_rows

    title = "Mayor urges residents to conserve water during the drought"
    text = title + "\n\nThe city's reservoirs are at a third of their capacity, officials said on Monday."
    lines = [line for _n, ls in quote_rows([{"id": "w", "title": title, "text": text}], "t.jsonl") for line in ls]
    rows = [(text[slice(*x["content"])], text[slice(*x["source"])] if x["source"] else None) for x in lines]
    assert ("residents to conserve water during the drought", "Mayor") in rows
    assert ("The city's reservoirs are at a third of their capacity", "officials") in rows


def test_a_second_statement_with_its_own_speaker_after_and_is_its_own():
    rows = contents("Most voters said they were worried about the economy, and more than half said the mayor "
                    "would handle it best.")
    assert rows == [("they were worried about the economy", "Most voters"),
                    ("the mayor would handle it best", "more than half")]


def test_batch_content_of_a_quotation_split_by_a_long_frame_is_its_main_stretch():
    from newstrace.attribute.batch import quote_rows

    text = ("“We won the cup,” said Ana Ruiz, who has coached the village team since a group of parents founded "
            "the club in the spring of 1998 and who still drives the minibus to every away game. “Again.”")
    [line] = [x for _n, ls in quote_rows([{"id": "r", "text": text}], "t.jsonl") for x in ls]
    assert [text[slice(*p)] for p in line["pieces"]] == ["“We won the cup,”", "“Again.”"]
    # the whole span would be mostly frame: the first quotation stands for the statement
    assert text[slice(*line["content"])] == "“We won the cup,”"
    short = "“We won the cup,” Ana Ruiz said. “We will win it again next year, with the same players.”"
    [line] = [x for _n, ls in quote_rows([{"id": "s", "text": short}], "t.jsonl") for x in ls]
    assert short[slice(*line["content"])] == short  # a short frame: the whole span


def test_a_quotation_ending_in_a_quoted_phrase_keeps_its_comma_and_its_frame():
    # the comma before the inner closing mark (,’”) is the quotation's own: the frame follows it
    text = ("“You told us you would ‘fix every road in the county by the spring,’” Ms. Lane said. "
            "“Not one of them has been fixed.”")
    assert contents(text) == [("“You told us you would ‘fix every road in the county by the spring,’” | "
                               "“Not one of them has been fixed.”", "Ms. Lane")]


def test_a_title_quoted_at_the_end_of_the_frame_does_not_end_the_statement():
    # the title's marks hold the frame's full stop: the next quotation is still the mayor's
    text = "“The plan is sound and the money is there,” the mayor said on the show “City Talk.” “We start in May.”"
    assert contents(text)[0] == ("“The plan is sound and the money is there,” | “We start in May.”", "the mayor")


def test_a_quoted_fragment_with_a_frame_of_its_own_does_not_continue_the_statement_before():
    text = ("“The budget is balanced,” the treasurer said. “We cut every office by a tenth” to pay for the "
            "new school, she said.")
    rows = contents(text)
    assert rows[0] == ("“The budget is balanced,”", "the treasurer")
    assert rows[1] == ("“We cut every office by a tenth” to pay for the new school", "she")


def test_the_clause_a_verb_reports_begins_before_the_quotation_that_ends_it():
    text = "The mayor said on Monday that if the river kept rising, “we will close the bridge by nightfall.”"
    assert contents(text) == [("that if the river kept rising, “we will close the bridge by nightfall.”", "The mayor")]
    # nothing between the verb and the quotation: the quotation alone
    text = "The mayor said, “We will close the bridge by nightfall if the river keeps rising.”"
    assert contents(text) == [("“We will close the bridge by nightfall if the river keeps rising.”", "The mayor")]


def test_a_quoted_term_that_modifies_a_noun_is_no_ones_words():
    # the marks set off a term ("miracle" pills), not what the subject said of the object
    assert contents("The company advertised “miracle” diet pills to teenagers across the state.") == []
    assert contents("The senator branded the company a “snake oil outfit” on Tuesday.")[0][1] == "The senator"


def test_a_no_break_space_between_a_quotation_and_its_signing_dash():
    text = "“We came here with nothing, and this town gave us a start and a home.”\xa0― Lena Ortiz\xa0"
    assert contents(text) == [(text[:text.index("\xa0")], "Lena Ortiz")]


def test_verbs_of_manner_of_speaking_frame_a_quotation():
    # Levin's manner-of-speaking and say verbs: “…,” she whispered / “…?” the farmer demanded
    assert contents("“Get out of my office before I call the guards,” she whispered.") == [
        ("“Get out of my office before I call the guards,”", "she")]
    assert contents("“Where is the money we were promised last year?” the farmer demanded.") == [
        ("“Where is the money we were promised last year?”", "the farmer")]


def test_a_verb_joined_to_the_reporting_verb_with_the_form_of_a_verb_in_its_complement_is_reported():
    # the parse joins "let" to "said"; it is a bare infinitive like "speak", so a conjunct of the content
    text = ("The former senator and current candidate said she wanted to speak “directly to young voters” and "
            "let them know that “we hear you.”")
    assert contents(text) == [(text[text.index("she wanted"):], "The former senator and current candidate")]


def test_a_noun_object_keeps_the_conjunct_the_parse_joins_to_the_reporting_verb():
    rows = contents("Democrats called the vote and the demand for his testimony a political ploy aimed at "
                    "embarrassing the governor.")
    assert rows == [("the vote and the demand for his testimony a political ploy aimed at embarrassing the governor",
                     "Democrats")]


def test_a_quoted_clause_joined_to_the_frame_continues_the_statement():
    text = ("Moss said he had offers for the boat, but “the offers were from people I would never sell to.”")
    assert contents(text) == [("he had offers for the boat, but “the offers were from people I would never sell to.”",
                               "Moss")]
    # without quotation marks the clause after "but" may be the reporter's: it is left out
    assert contents("Moss said he had offers for the boat, but the offers were low.") == \
        [("he had offers for the boat", "Moss")]


def test_a_name_the_parse_hangs_on_the_noun_before_is_the_subject_of_the_verb_after_it():
    rows = contents("Speaking to supporters of front-runner Hillary Clinton, former president Bill Clinton said his "
                    "wife was uniquely qualified to be president.")
    assert rows == [("his wife was uniquely qualified to be president", "former president Bill Clinton")]


def test_a_contrast_in_quotation_marks_is_the_speakers():
    assert contents("Grant said the mayor was “a total lightweight” while the treasurer is “a liar.”") == \
        [("the mayor was “a total lightweight” while the treasurer is “a liar.”", "Grant")]
    # a contrast with a speaker of its own stays the reporter's
    assert contents("Grant said the strike will go on until the deal is signed while the union says “never.”")[0] \
        == ("the strike will go on until the deal is signed", "Grant")


def test_a_verb_of_saying_inside_the_clause_of_another_gives_way_to_the_outer_report():
    text = "The coach said she recalled thinking, “This team will never win a game on the road.”"
    assert contents(text) == [(text[text.index("she recalled"):], "The coach")]


def test_a_finite_reporting_verb_the_parse_leaves_without_a_subject_takes_the_noun_phrase_before_it():
    # the parse joins the names to "war" before the comma; "call" is finite, so its subject stands before it
    text = ("When terror attacks are revealed as part of the second front of the radical Islamic terror war, "
            "Obama and Clinton call them “lone wolves” and describe their acts as crimes.")
    assert contents(text)[0] == ("them “lone wolves”", "Obama and Clinton")


def test_a_quoted_object_keeps_the_conjunct_the_parse_joins_to_its_verb():
    # "make" is a bare infinitive like "cross-sell" inside the object, not a participle like "mocking"
    rows = contents("She spoke for an hour, mocking the firm’s drive to “cross-sell” or make clients open more accounts.")
    assert rows == [("the firm’s drive to “cross-sell” or make clients open more accounts", "She")]


def test_an_inverted_frame_after_a_quotation_gives_the_noun_after_the_verb_as_source():
    # the parse takes "a reporter" for the object of "asked"; the search past the quotation before the
    # verb still looks after it
    assert contents("“Will you rebuild the bridge before the winter comes?” asked a reporter.") == [
        ("“Will you rebuild the bridge before the winter comes?”", "a reporter")]


def test_a_frame_with_an_aside_on_the_speaker_still_frames_the_quotation():
    # the aside holds a verb, a conjunction and a quoted title; the speaker is the name before it
    rows = contents("“We’ve had more successful conventions than this one,” Texas delegate Bill Eastland, "
                    "wearing a cowboy hat and “Ted Cruz” campaign pins, said matter-of-factly.")
    assert rows[0] == ("“We’ve had more successful conventions than this one,”", "Texas delegate Bill Eastland")


def test_an_aside_of_several_commas_between_the_speaker_and_the_verb_still_frames_the_quotation():
    # the aside after the name holds commas of its own ("now 79 and living in Cambridge, Mass.,"): the
    # verb of saying is at the comma that one follows, not the next comma after the name
    text = ("“If the talks had failed, I would have stayed in that cell for years,” Mr. Dalton, now 79 and "
            "living in Cambridge, Mass., said by telephone this week. “Every minute there is like a day.”")
    rows = contents(text)
    assert len(rows) == 1
    assert rows[0][0] == ("“If the talks had failed, I would have stayed in that cell for years,” | "
                          "“Every minute there is like a day.”")
    assert rows[0][1] is not None and rows[0][1].startswith("Mr. Dalton")


def test_a_source_does_not_end_in_the_conjunction_of_an_aside_the_parse_cut():
    # the parse hangs "retired in Cambridge, Mass." elsewhere and leaves "now 81 and" on the name
    rows = contents("“If the talks had failed, I would have stayed in that cell for years,” Mr. Daniloff, now 81 "
                    "and retired in Cambridge, Mass., said by telephone. “They wanted a trade.”")
    assert [r[1] for r in rows] == ["Mr. Daniloff, now 81"]


def test_a_quoted_phrase_before_a_verb_of_saying_with_its_own_clause_is_no_quotation_of_it():
    # "said" reports the clause after it, which opens with words outside the quotation marks
    rows = contents("Walking into the office to chants of “Marco! Marco!,” the senator said his campaign "
                    "here was “closing really strong.”")
    assert rows == [("his campaign here was “closing really strong.”", "the senator")]


def test_a_verb_hung_on_the_cue_without_a_subject_is_no_clause_it_reports():
    # the parse makes "aired" a clause of "said": the quotation before is still the statement
    text = ("“Let's go back six months and look at Bernie Sanders being 3, 4 percent in the polls,” Sanders "
            "said in an interview with CNN's Gloria Borger aired Monday on “New Day.”")
    rows = contents(text)
    assert rows[0][0].startswith("“Let's go back six months") and rows[0][1] == "Sanders"


def test_a_speaker_set_off_from_the_verb_by_an_aside_is_still_its_subject():
    # the parse hangs the name on the noun before it (an apposition of "plea") and gives "said" none
    rows = contents("As a part of his plea, Marcel Lehel Lazar, 44, said that he victimized nearly 100 "
                    "Americans from his home overseas.")
    assert rows == [("that he victimized nearly 100 Americans from his home overseas", "Marcel Lehel Lazar, 44")]
    # the parse makes the apposition a clause of "said": it is the speaker's, not the content
    rows = contents("Jeffrey Salkin, a Hollywood, Fla., rabbi helping to organize the boycott, said he and other "
                    "rabbis were alarmed about the candidate's rhetoric.")
    assert rows[0][0] == "he and other rabbis were alarmed about the candidate's rhetoric"
    assert rows[0][1].startswith("Jeffrey Salkin")


def test_a_name_the_tagger_reads_as_an_adverb_is_the_subject():
    rows = contents("Jolly said he has worked with Republicans and Democrats on legislation for students.")
    assert rows == [("he has worked with Republicans and Democrats on legislation for students", "Jolly")]


def test_a_frame_the_parse_joins_to_the_clause_before_it_reports_that_clause():
    rows = contents("The big steel plant is hanging on, but it is under intense pressure from Asian imports, "
                    "said the company's chief executive, John J. Ferriola.")
    assert rows == [("The big steel plant is hanging on, but it is under intense pressure from Asian imports",
                     "the company's chief executive, John J. Ferriola")]


def test_a_title_beside_the_noun_it_names_is_no_quotation_of_the_frame():
    rows = contents("Castro's revolution in 1959 dampened plans to return home, Mr. Rubio said in his 2012 book, "
                    "''An American Son.''")
    assert rows == [("Castro's revolution in 1959 dampened plans to return home", "Mr. Rubio")]


def test_a_closing_mark_glued_to_the_next_word_still_ends_the_quotation():
    rows = contents("“It doesn’t fit with what I thought I knew about him,”Clinton said.")
    assert rows == [("“It doesn’t fit with what I thought I knew about him,”", "Clinton")]


def test_a_for_to_clause_is_what_a_call_for_asks():
    # the parse reads "for" as the mark of an adverbial clause; the preposition belongs to the cue
    rows = contents("In December, the prince called for Trump to drop out of the race.")
    assert rows == [("Trump to drop out of the race", "the prince")]


def test_a_call_for_something_is_its_makers_attribution():
    rows = contents("Cruz made an unprompted call for an end to sugar subsidies.")
    assert rows == [("an end to sugar subsidies", "Cruz")]
    # the infinitive the parse hangs elsewhere still belongs to what is called for
    rows = contents("Washington is using the attacks to renew its calls for Silicon Valley to roll back encryption.")
    assert rows == [("Silicon Valley to roll back encryption", "its")]
    # with no one making the call, none
    assert contents("There have been few calls for Sanders to drop out.") == []


def test_a_party_label_between_the_name_and_the_verb_keeps_the_speaker():
    rows = contents("Saturday at the state party convention Sen. Elizabeth Warren (D-MA) said the nominee was a "
                    "“proven failure” in business.")
    assert rows == [("the nominee was a “proven failure” in business", "Sen. Elizabeth Warren (D-MA)")]


def test_a_quotation_ending_the_sentence_right_after_the_content_closes_it():
    # the parse hangs the quotation on the verb, outside the infinitive's subtree
    rows = contents("Mr. Cruz pledged to oppose legal status for undocumented immigrants “today, tomorrow, forever.”")
    assert rows == [("to oppose legal status for undocumented immigrants “today, tomorrow, forever.”", "Mr. Cruz")]


def test_a_statement_issued_frames_the_quotation_after_it():
    rows = contents("After the attacks, Trump issued a statement, “Last night, our nation was attacked. It was "
                    "the worst attack on our soil since 9/11.”")
    assert rows == [("“Last night, our nation was attacked. It was the worst attack on our soil since 9/11.”",
                     "Trump")]
    # announced at the end of a paragraph, quoted in the next
    text = "Donald Trump issued the following statement:\n\n“Our prayers are with all those affected. This cannot continue.”"
    rows = contents(text)
    assert rows == [("“Our prayers are with all those affected. This cannot continue.”", "Donald Trump")]


def test_a_quotation_paragraph_signed_by_the_next_one_is_the_signers():
    text = ("“But I hope they are fake,” Reid said.\n\n“Great speech. She's tested. She never quits.”\n\n"
            "-President Obama, tweeting after the speech.")
    rows = contents(text)
    assert rows == [("“But I hope they are fake,”", "Reid"),
                    ("“Great speech. She's tested. She never quits.”", "President Obama")]


def test_a_call_for_something_with_a_by_phrase_does_not_stop_the_run():
    # the owner search looks for a "by" phrase before the content: with no "that" clause it must not
    # read the clause's position (this crashed `newstrace quotes` on the 100,000-article stream)
    # (the "by" phrase hangs on "calm", not on "calls": no one is named as making the call)
    assert contents("Calls for calm by the mayor went unheeded as protests continued.") == []


def test_a_transcript_label_with_a_party_and_no_space_before_the_quotation():
    rows = contents('Rep. Trey Gowdy (R-S.C.):"I have not heard anyone other than you ever cite that figure. '
                    'Who told you that?"')
    assert rows == [('"I have not heard anyone other than you ever cite that figure. Who told you that?"',
                     "Rep. Trey Gowdy")]


def test_a_question_before_an_answer_frame_is_not_the_answerers():
    rows = contents("“If you had known she had a personal server, would you have told her it’s not a good idea?” "
                    "He answered, “I have no idea. We’re old friends.”")
    assert rows == [("“I have no idea. We’re old friends.”", "He")]


def test_an_article_the_extractor_fails_on_is_reported_and_the_run_goes_on(monkeypatch):
    from newstrace.attribute import batch

    real = batch.quote_chunk

    def failing(rows, origin):
        if any(r["id"] == "bad" for r in rows):
            raise AttributeError("'NoneType' object has no attribute 'i'")
        return real(rows, origin)

    monkeypatch.setattr(batch, "quote_chunk", failing)
    rows = [{"id": "a", "text": "The mayor said the budget would pass."},
            {"id": "bad", "text": "Anything."},
            {"id": "b", "text": "The governor said she would veto it."}]
    errors: list[str] = []
    lines = [line for _n, ls in batch.quote_rows(rows, "in.jsonl", on_error=errors.append) for line in ls]
    assert sorted({line["doc_id"] for line in lines}) == ["a", "b"]
    assert len(errors) == 1 and errors[0].startswith("in.jsonl: id 'bad': [E014] unexpected error: AttributeError")
