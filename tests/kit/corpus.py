"""TEST DATA ONLY: a realistic force tracker of 20 reports and ~150 items, built in memory.

Report titles are HMICFRS's; item texts are written in HMICFRS style for tests (a few, such as the
vetting recommendations 33-39, follow the JAC paper of 15 December 2022), and owners are invented.
None of this is an authoritative record of what HMICFRS recommended.

The shape is chosen to exercise resolution: numbers that repeat across reports ("rec 4" is in
many), hierarchical numbers ("7.1"), blank numbers (JTAI, custody, crime data integrity), several
CCU items (so "the CCU one" is ambiguous), one body-worn video item, organised crime only in item
texts, and owners whose names look like dates ("June Smith", "May Ellis").

``read_model()`` builds a :class:`ReadModel` without a database (its store is only used to load).
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from storage.readmodel import ReadModel
from storage.store import Store
from storage.views import ItemView, ReportView, Snapshot

D = dt.date
TODAY = D(2026, 11, 25)  # a Wednesday: Christmas ahead, March and Easter passed

VET = "vetting-misconduct-misogyny"
ROADS = "roads-policing-not-optional"
DAPAN = "da-pandemic-2021"
BETRAYAL = "peel-spotlight-2019-betrayal"
PEEL = "peel-2021-22-wmp"
JTAI = "jtai-walsall-2022"
CP = "child-protection-2014"
VAWG = "vawg-interim-2021"
DISP = "disproportionality"
FRAUD = "fraud-review-2021"
CDI = "cdi-2018-wmp"
LEGIT = "peel-legitimacy-2016"
EFFECT = "peel-effectiveness-2016"
CSE = "cse-online-2015"
ASB = "asb-2024"
PPDA = "ppda-super-complaint-2022"
RAPE = "rape-joint-thematic-2021"
STALK = "stalking-2017"
CUSTODY = "custody-wmp-2023"
INFO = "information-management-2020"

# (key, title, report type, published, aliases)
REPORTS: tuple[tuple[str, str, str, dt.date | None, tuple[str, ...]], ...] = (
    (VET, "An inspection of vetting, misconduct, and misogyny in the police service", "national_thematic",
     D(2022, 11, 2), ("vetting", "the misogyny one", "VMM", "vetting inspection")),
    (ROADS, "Roads policing: Not optional – An inspection of roads policing in England and Wales", "national_thematic",
     D(2020, 7, 14), ("roads policing", "not optional")),
    (DAPAN, "Review of policing domestic abuse during the pandemic – 2021", "national_thematic",
     D(2021, 6, 22), ("covid domestic abuse", "DA during covid")),
    (BETRAYAL, "PEEL spotlight report: Shining a light on betrayal – Abuse of position for a sexual purpose", "spotlight",
     D(2019, 9, 27), ("betrayal", "shining a light", "APSP")),
    (PEEL, "PEEL 2021/22 Police effectiveness, efficiency and legitimacy – An inspection of West Midlands Police", "peel",
     D(2022, 6, 1), ("PEEL 2021/22", "our PEEL", "last PEEL")),
    (JTAI, "Joint targeted area inspection of the multi-agency response to identification of initial need and risk in Walsall",
     "jtai", D(2023, 1, 20), ("JTAI", "Walsall JTAI", "front door")),
    (CP, "National child protection inspections: West Midlands Police 2014", "child_protection",
     D(2014, 10, 9), ("child protection", "CP 2014")),
    (VAWG, "Interim report: Inspection into how effectively the police engage with women and girls", "national_thematic",
     D(2021, 7, 9), ("VAWG interim", "women and girls")),
    (DISP, "Disproportionate use of police powers – A spotlight on stop and search and the use of force", "spotlight",
     D(2021, 2, 26), ("disproportionality", "S&S spotlight")),
    (FRAUD, "A review of 'Fraud: Time to choose' – A revisit of the 2018 fraud inspection", "national_thematic",
     D(2021, 8, 5), ("fraud", "time to choose")),
    (CDI, "Crime data integrity inspection 2018 – West Midlands Police", "crime_data_integrity",
     D(2018, 9, 13), ("CDI", "crime recording")),
    (LEGIT, "PEEL: Police legitimacy 2016 – A national overview", "peel", D(2016, 12, 8), ("legitimacy 2016",)),
    (EFFECT, "PEEL: Police effectiveness 2016 – A national overview", "peel", D(2017, 3, 2), ("effectiveness 2016",)),
    (CSE, "Online and on the edge: Real risks in a virtual world – An inspection into how forces deal with the online sexual exploitation of children",
     "national_thematic", D(2015, 7, 2), ("online CSE", "online and on the edge")),
    (ASB, "An inspection into how well the police and other agencies use their powers to tackle antisocial behaviour",
     "national_thematic", D(2024, 9, 12), ("ASB",)),
    (PPDA, "Police perpetrated domestic abuse: Report on the Centre for Women's Justice super-complaint", "super_complaint",
     D(2022, 6, 16), ("PPDA", "CWJ super-complaint")),
    (RAPE, "A joint thematic inspection of the police and Crown Prosecution Service's response to rape – Phase one",
     "joint_thematic", D(2021, 7, 16), ("rape inspection",)),
    (STALK, "Living in fear – the police and CPS response to harassment and stalking", "joint_thematic",
     D(2017, 7, 5), ("stalking", "living in fear")),
    (CUSTODY, "Report on an unannounced inspection visit to police custody suites in West Midlands", "custody",
     D(2023, 5, 11), ("custody",)),
    (INFO, "Building the picture: An inspection of police information management", "national_thematic",
     D(2020, 7, 22), ("information management", "building the picture")),
)  # fmt: skip

# key -> (owner name as recorded, AAD object id)
OWNERS: dict[str, tuple[str, str]] = {
    "khan": ("DCI Sarah Khan (PSD)", "aad-sarah"),
    "owen": ("Supt Mark Owen (ICT)", "aad-mark"),
    "reid": ("DCI Tom Reid (Offender Management)", "aad-tom"),
    "bell": ("Insp Jo Bell (Body Worn Video)", "aad-jo"),
    "cole": ("Supt Ann Cole (Legitimacy)", "aad-ann"),
    "shah": ("DI Priya Shah (Economic Crime)", "aad-priya"),
    "smith": ("Ch Insp June Smith (Roads Policing)", "aad-june"),
    "ellis": ("Supt May Ellis (Public Protection)", "aad-may"),
    "hughes": ("Det Supt Claire Hughes (Child Protection)", "aad-claire"),
    "morris": ("Insp Dan Morris (Strategy, Delivery & Assurance)", "aad-dan"),
    "turner": ("DCI Ben Turner (Domestic Abuse)", "aad-ben"),
    "price": ("Insp Hannah Price (Custody)", "aad-hannah"),
    "grant": ("Ch Supt Neil Grant (Neighbourhoods)", "aad-neil"),
}

_O, _P, _E, _S, _N = "open", "in_progress", "evidenced", "signed_off", "not_for_us"

# (report key, kind, number, text, due date, owner key, status, themes)
ITEMS: tuple[tuple[str, str, str, str, dt.date | None, str | None, str, tuple[str, ...]], ...] = (
    # Vetting, misconduct and misogyny (2022): 43 recommendations, 26 to forces; a spread of them.
    (VET, "recommendation", "1", "By 31 October 2023, chief constables should make sure that their force vetting units check the Police National Database for all applicants and their associates before vetting clearance is granted.", D(2023, 10, 31), "khan", _S, ("vetting",)),
    (VET, "recommendation", "2", "By 31 October 2023, chief constables should make sure that vetting decision-makers record a clear rationale when clearance is granted despite adverse information.", D(2023, 10, 31), "khan", _E, ("vetting",)),
    (VET, "recommendation", "3", "By 30 April 2023, chief constables should make sure that their forces review the vetting status of officers and staff who transferred in from other forces with a history of misconduct allegations.", D(2023, 4, 30), "khan", _P, ("vetting", "misconduct")),
    (VET, "recommendation", "5", "By 31 March 2024, the College of Policing should amend the vetting code of practice so that it includes minimum standards for pre-employment checks.", None, None, _N, ("vetting",)),
    (VET, "recommendation", "12", "By 31 October 2023, chief constables should make sure that vetting units have enough trained staff to meet demand and to carry out aftercare reviews.", D(2023, 10, 31), "khan", _P, ("vetting",)),
    (VET, "recommendation", "14", "By 30 June 2023, chief constables should make sure that professional standards departments assess all allegations of misogynistic and predatory behaviour as potential gross misconduct.", D(2023, 6, 30), "khan", _O, ("misconduct", "misogyny")),
    (VET, "recommendation", "20", "By 30 September 2023, chief constables should make sure that all officers and staff understand what constitutes misogynistic and predatory behaviour towards colleagues and members of the public.", D(2023, 9, 30), "cole", _E, ("misogyny",)),
    (VET, "recommendation", "27", "By 31 December 2023, chief constables should make sure that their forces record the outcome of misconduct hearings and share learning with the workforce.", D(2023, 12, 31), "khan", _S, ("misconduct",)),
    (VET, "recommendation", "31", "By 31 October 2023, chief constables should make sure that supervisors receive training on how to recognise and challenge sexist behaviour in the workplace.", D(2023, 10, 31), "cole", _O, ("misogyny",)),
    (VET, "recommendation", "33", "By 31 March 2023, chief constables should make sure that counter-corruption units (CCUs) have established relationships with external bodies that support vulnerable people who may be at risk of abuse of position for a sexual purpose, such as sex-worker support services, drug and alcohol and mental health charities.", D(2023, 3, 31), "khan", _S, ("counter-corruption",)),
    (VET, "recommendation", "34", "By 30 April 2023, chief constables should make sure that their counter-corruption units actively seek corruption-related intelligence as a matter of routine.", D(2023, 4, 30), "khan", _P, ("counter-corruption",)),
    (VET, "recommendation", "35", "By 31 March 2023, to protect the information contained within their systems and help them to identify potentially corrupt officers and staff, chief constables should make sure that their force has the ability to monitor all use of its IT systems; and the force uses this for counter-corruption purposes.", D(2023, 3, 31), "owen", _O, ("counter-corruption", "information security")),
    (VET, "recommendation", "38", "By 30 April 2023, chief constables should make sure that all corruption-related intelligence is categorised in accordance with the National Police Chiefs' Council counter-corruption categories (and any revised version of these).", D(2023, 4, 30), None, _E, ("counter-corruption",)),
    (VET, "recommendation", "39", "By 30 April 2023, chief constables should make sure they have a current counter-corruption strategic threat assessment, in accordance with the Counter-Corruption (Intelligence) Authorised Professional Practice.", D(2023, 4, 30), "khan", _O, ("counter-corruption",)),
    (VET, "recommendation", "6", "By 31 October 2023, chief constables should make sure that their force carries out checks on the social media of applicants before vetting clearance is granted.", D(2023, 10, 31), "khan", _O, ("vetting",)),
    (VET, "recommendation", "9", "By 30 April 2024, chief constables should make sure that vetting clearance for officers with adverse information is reviewed after a fixed period.", D(2024, 4, 30), "khan", _P, ("vetting",)),
    (VET, "recommendation", "16", "By 31 March 2024, chief constables should make sure that gross misconduct hearings are chaired by legally qualified chairs with the necessary training.", D(2024, 3, 31), None, _O, ("misconduct",)),
    (VET, "recommendation", "17", "By 30 June 2023, chief constables should make sure that their professional standards departments refer all relevant cases to the barred list.", D(2023, 6, 30), "khan", _S, ("misconduct",)),
    (VET, "recommendation", "22", "By 31 December 2026, chief constables should make sure that their forces have an effective whistleblowing policy that protects those who report wrongdoing.", D(2026, 12, 31), "cole", _O, ("misconduct", "misogyny")),
    (VET, "recommendation", "24", "By 31 March 2027, chief constables should make sure that their force records and monitors the protected characteristics of those going through the misconduct process.", D(2027, 3, 31), "cole", _O, ("misconduct",)),
    (VET, "recommendation", "36", "By 31 March 2023, chief constables should make sure that their force has enough information security staff to monitor access to sensitive information.", D(2023, 3, 31), "owen", _P, ("information security",)),
    (VET, "recommendation", "37", "By 30 April 2023, chief constables should make sure that officers and staff declare notifiable associations and that these are reviewed.", D(2023, 4, 30), "khan", _E, ("vetting",)),
    (VET, "recommendation", "40", "By 31 October 2023, chief constables should make sure that corruption investigations are resourced in line with the threat assessment.", D(2023, 10, 31), "khan", _O, ("counter-corruption",)),
    (VET, "recommendation", "43", "By 31 March 2024, the Independent Office for Police Conduct should publish guidance on the investigation of complaints about sexual misconduct.", None, None, _N, ("misconduct",)),
    # Roads policing: Not optional (2020): four signed off in the JAC paper.
    (ROADS, "recommendation", "1", "By 31 January 2021, chief constables should make sure that their force has a current roads policing strategy that reflects the national roads policing strategy.", D(2021, 1, 31), "smith", _S, ("roads policing",)),
    (ROADS, "recommendation", "2", "By 31 January 2021, chief constables should make sure that roads policing officers receive training in collision investigation and the specialist skills their role demands.", D(2021, 1, 31), "smith", _S, ("roads policing",)),
    (ROADS, "recommendation", "3", "By 31 March 2021, chief constables should make sure that their force analyses collision data to direct enforcement activity at the roads with most deaths and serious injuries.", D(2021, 3, 31), "smith", _S, ("roads policing",)),
    (ROADS, "recommendation", "4", "By 31 March 2021, chief constables should make sure that they process speed camera offences and dashcam footage submitted by the public promptly.", D(2021, 3, 31), "smith", _S, ("roads policing",)),
    (ROADS, "recommendation", "5", "By 31 July 2021, chief constables should make sure that their force works with the local road safety partnership to share data and evaluate interventions.", D(2021, 7, 31), "smith", _P, ("roads policing",)),
    (ROADS, "recommendation", "6", "By 31 July 2021, chief constables should make sure that family liaison officers are deployed to every fatal road traffic collision.", D(2021, 7, 31), "smith", _O, ("roads policing", "victims")),
    (ROADS, "recommendation", "7", "By 31 December 2021, chief constables should make sure that their force uses automatic number plate recognition to deny criminals the use of the roads.", D(2021, 12, 31), "smith", _E, ("roads policing",)),
    (ROADS, "recommendation", "8", "By 31 December 2026, chief constables should make sure that roads policing resources are included in their force management statement.", D(2026, 12, 31), "smith", _O, ("roads policing",)),
    (ROADS, "recommendation", "11", "By 31 March 2027, chief constables should make sure that their force has enough trained officers to police the strategic road network.", D(2027, 3, 31), "smith", _O, ("roads policing",)),
    (ROADS, "recommendation", "9", "The Department for Transport should review the funding of road safety partnerships.", None, None, _N, ("roads policing",)),
    (ROADS, "recommendation", "10", "By 31 March 2027, chief constables should make sure that drink and drug driving enforcement is intelligence-led, including during the Christmas campaign.", D(2027, 3, 31), "smith", _O, ("roads policing",)),
    # Domestic abuse during the pandemic (2021): one signed off.
    (DAPAN, "recommendation", "1", "By 31 December 2021, chief constables should make sure that the use of remote and telephone contact with victims of domestic abuse is risk-assessed and reviewed.", D(2021, 12, 31), "turner", _S, ("domestic abuse",)),
    (DAPAN, "recommendation", "2", "By 31 December 2021, chief constables should make sure that officers record the voice of the child when attending domestic abuse incidents.", D(2021, 12, 31), "turner", _P, ("domestic abuse", "child protection")),
    (DAPAN, "recommendation", "3", "By 31 March 2022, chief constables should make sure that domestic violence protection notices and orders are used whenever appropriate.", D(2022, 3, 31), "turner", _O, ("domestic abuse",)),
    (DAPAN, "recommendation", "4", "By 31 March 2022, chief constables should make sure that their force evaluates the outcomes of domestic abuse cases where the victim does not support a prosecution.", D(2022, 3, 31), "turner", _E, ("domestic abuse",)),
    (DAPAN, "recommendation", "5", "By 31 December 2026, chief constables should make sure that lessons from the pandemic inform their domestic abuse business continuity plans.", D(2026, 12, 31), "turner", _O, ("domestic abuse",)),
    (DAPAN, "recommendation", "6", "The Home Office should fund independent domestic violence advisers on a multi-year basis.", None, None, _N, ("domestic abuse",)),
    # Shining a light on betrayal (2019): three signed off.
    (BETRAYAL, "recommendation", "1", "By March 2020, all forces should make sure that they can monitor all of their IT systems to help identify those who may be abusing their position for a sexual purpose.", D(2020, 3, 31), "owen", _S, ("counter-corruption",)),
    (BETRAYAL, "recommendation", "2", "By March 2020, all forces should make sure that their counter-corruption units have enough capability and capacity to seek intelligence on abuse of position for a sexual purpose.", D(2020, 3, 31), "khan", _S, ("counter-corruption",)),
    (BETRAYAL, "recommendation", "3", "By March 2020, forces should establish relationships with organisations that support vulnerable people, so that they can report concerns about officers and staff.", D(2020, 3, 31), "khan", _S, ("counter-corruption", "vulnerability")),
    (BETRAYAL, "recommendation", "4", "By March 2020, forces should make sure that all officers and staff understand that abuse of position for a sexual purpose is serious corruption and should be reported.", D(2020, 3, 31), "khan", _E, ("counter-corruption",)),
    (BETRAYAL, "recommendation", "5", "By September 2020, forces should refer all cases of abuse of position for a sexual purpose to the Independent Office for Police Conduct.", D(2020, 9, 30), "khan", _P, ("counter-corruption",)),
    (BETRAYAL, "recommendation", "6", "By March 2021, forces should carry out a strategic threat assessment of abuse of position for a sexual purpose and publish the results internally.", D(2021, 3, 31), "khan", _O, ("counter-corruption",)),
    (BETRAYAL, "recommendation", "7", "By December 2026, forces should make sure that vetting aftercare identifies changes in circumstances that may indicate a risk of sexual exploitation of vulnerable people.", D(2026, 12, 15), "khan", _O, ("vetting", "counter-corruption")),
    (BETRAYAL, "recommendation", "8", "The College of Policing should produce guidance on professional boundaries for officers and staff.", None, None, _N, ("counter-corruption",)),
    # PEEL 2021/22 West Midlands: four areas for improvement; one signed off (sex offenders).
    (PEEL, "afi", "1", "The force should review how it manages sex offenders to make sure it has the capacity and capability to manage the risk they pose.", None, "reid", _S, ("offender management",)),
    (PEEL, "afi", "2", "The force should improve how it records and reviews body-worn video footage of stop and search encounters.", D(2026, 12, 20), "bell", _O, ("stop and search",)),
    (PEEL, "afi", "3", "The force should make sure that it answers emergency and non-emergency calls promptly and that callers are given appropriate advice.", D(2027, 2, 28), "grant", _P, ("call handling",)),
    (PEEL, "afi", "4", "The force should make sure that it has enough trained detectives to meet investigative demand and that investigations are supervised effectively.", D(2026, 10, 31), "hughes", _O, ("investigations",)),
    # JTAI Walsall (2022): areas for improvement, not numbered.
    (JTAI, "afi", "", "Police referrals to the multi-agency safeguarding hub should contain enough information about the child's lived experience for partners to assess risk.", D(2027, 1, 31), "hughes", _O, ("child protection",)),
    (JTAI, "afi", "", "Strategy discussions should include all relevant agencies and be held promptly when a child may be at risk of significant harm.", D(2027, 1, 31), "hughes", _P, ("child protection",)),
    (JTAI, "afi", "", "Officers should record the voice of the child when attending incidents of domestic abuse where children are present.", D(2026, 12, 31), "turner", _O, ("child protection", "domestic abuse")),
    (JTAI, "afi", "", "The quality assurance of decisions at the front door should be strengthened so that thresholds are applied consistently.", D(2027, 3, 31), "hughes", _O, ("child protection",)),
    (JTAI, "afi", "", "Leaders should make sure that the multi-agency safeguarding arrangements evaluate the impact of early help.", None, None, _N, ("child protection",)),
    # Child protection 2014: six recommendations still being progressed.
    (CP, "recommendation", "1", "Within six months, the force should make sure that officers attending incidents involving children identify and record the risks to each child.", D(2015, 4, 9), "hughes", _P, ("child protection",)),
    (CP, "recommendation", "2", "Within six months, the force should make sure that children taken into police protection are placed in suitable accommodation and not held in custody.", D(2015, 4, 9), "hughes", _E, ("child protection", "custody")),
    (CP, "recommendation", "3", "Within six months, the force should review its management of missing children cases so that risk is reassessed on each occasion a child goes missing.", D(2015, 4, 9), "hughes", _P, ("child protection",)),
    (CP, "recommendation", "4", "Within six months, the force should make sure that child sexual exploitation is identified and investigated effectively.", D(2015, 4, 9), "hughes", _O, ("child protection", "CSE")),
    (CP, "recommendation", "5", "Within twelve months, the force should make sure that information about registered sex offenders with access to children is shared with partners.", D(2015, 10, 9), "reid", _O, ("child protection",)),
    (CP, "recommendation", "6", "Within twelve months, the force should make sure that supervisors review the quality of child protection investigations.", D(2015, 10, 9), "hughes", _P, ("child protection",)),
    # VAWG interim (2021).
    (VAWG, "recommendation", "1", "There should be an immediate and unequivocal commitment that the response to VAWG offences is an absolute priority for government, policing, the criminal justice system, and public sector partnerships.", None, None, _N, ("VAWG",)),
    (VAWG, "recommendation", "2", "The relentless pursuit and disruption of adult perpetrators should be a national priority for the police, and their capability and capacity to do this should be enhanced.", D(2026, 12, 24), "ellis", _P, ("VAWG",)),
    (VAWG, "recommendation", "3", "Structures and funding should be put in place to make sure victims receive tailored and consistent support.", None, None, _N, ("VAWG", "victims")),
    (VAWG, "recommendation", "4", "The police should make sure that they understand the scale of violence against women and girls in their area by improving the recording of such offences.", D(2026, 11, 30), "ellis", _O, ("VAWG",)),
    (VAWG, "recommendation", "5", "Chief constables should make sure that perpetrators of domestic abuse and stalking are identified and managed through multi-agency arrangements.", D(2027, 5, 31), "ellis", _O, ("VAWG", "stalking")),
    # Disproportionate use of police powers (2021).
    (DISP, "recommendation", "1", "Forces should make sure that the grounds for stop and search are recorded accurately and that supervisors scrutinise them.", D(2021, 7, 31), "cole", _S, ("stop and search",)),
    (DISP, "recommendation", "2", "Forces should improve the external scrutiny of stop and search by community panels, including young people.", D(2021, 7, 31), "cole", _P, ("stop and search",)),
    (DISP, "recommendation", "3", "Forces should record and publish data on the use of force, including the ethnicity of the person concerned.", D(2022, 1, 31), "cole", _E, ("use of force",)),
    (DISP, "recommendation", "4", "Forces should monitor and analyse the use of stop and search and use of force to understand and explain any disproportionality.", D(2027, 1, 31), "cole", _O, ("stop and search", "use of force")),
    (DISP, "recommendation", "5", "The IOPC should publish its guidance on stop and search complaints.", None, None, _N, ("stop and search",)),
    (DISP, "recommendation", "6", "Forces should make sure that officers receive training on unconscious bias and effective communication during encounters.", D(2022, 1, 31), "cole", _O, ("stop and search",)),
    (DISP, "recommendation", "7", "Forces should review the use of drug searches based on the smell of cannabis alone.", D(2022, 1, 31), "cole", _P, ("stop and search",)),
    (DISP, "recommendation", "8", "The Home Office should publish national data on stop and search outcomes by ethnicity.", None, None, _N, ("stop and search",)),
    # Fraud: Time to choose revisit (2021).
    (FRAUD, "recommendation", "1", "By 30 September 2021, Chief Constables should make sure that their forces are following the guidance issued by the National Police Chiefs' Council Coordinator for Economic Crime about fraud-related calls for service.", D(2021, 9, 30), "shah", _O, ("fraud",)),
    (FRAUD, "recommendation", "2", "By 31 March 2022, chief constables should make sure that victims of fraud receive appropriate support and protection advice.", D(2022, 3, 31), "shah", _P, ("fraud", "victims")),
    (FRAUD, "recommendation", "3", "By 31 March 2022, chief constables should make sure that their force has enough trained investigators to deal with cyber-dependent crime and fraud.", D(2022, 3, 31), "shah", _O, ("fraud",)),
    (FRAUD, "recommendation", "4", "By 31 December 2026, chief constables should make sure that their force publishes its fraud outcomes.", D(2026, 12, 31), "shah", _O, ("fraud",)),
    (FRAUD, "recommendation", "7", "By 31 March 2027, chief constables should make sure that their force protects vulnerable victims of courier and romance fraud.", D(2027, 3, 31), "shah", _O, ("fraud", "vulnerability")),
    (FRAUD, "recommendation", "5", "The Home Office should develop a national fraud strategy with clear accountability.", None, None, _N, ("fraud",)),
    (FRAUD, "recommendation", "6", "By 30 June 2022, chief constables should make sure that Action Fraud disseminations are allocated and investigated promptly.", D(2022, 6, 30), "shah", _E, ("fraud",)),
    # Crime data integrity 2018.
    (CDI, "cause_of_concern", "", "The force is failing to record a large proportion of reported crimes, including violent and sexual offences.", None, "morris", _P, ("crime recording",)),
    (CDI, "recommendation", "1", "Within three months, the force should make sure that reports of crime received through its control room are recorded within 24 hours.", D(2018, 12, 13), "morris", _E, ("crime recording",)),
    (CDI, "recommendation", "2", "Within three months, the force should make sure that multiple crimes are recorded when described within incident records.", D(2018, 12, 13), "morris", _P, ("crime recording",)),
    (CDI, "recommendation", "3", "Within six months, the force should make sure that its crime registrar has the capacity to audit crime-recording decisions.", D(2019, 3, 13), "morris", _O, ("crime recording",)),
    (CDI, "recommendation", "4", "Within six months, the force should train officers and staff in the Home Office counting rules for modern slavery offences.", D(2019, 3, 13), "morris", _O, ("crime recording",)),
    (CDI, "recommendation", "5", "Within six months, the force should make sure that online reports of crime are triaged at the point of receipt.", D(2019, 3, 13), "morris", _S, ("crime recording",)),
    # PEEL legitimacy 2016.
    (LEGIT, "cause_of_concern", "", "Within two years, all members of the police workforce should have received at least the lowest level of vetting clearance for their roles.", D(2018, 12, 8), "khan", _S, ("vetting",)),
    (LEGIT, "recommendation", "", "Within six months, all forces should have started to implement a plan to achieve the capability and capacity required to seek intelligence on potential abuse of authority for sexual gain.", D(2017, 6, 8), "khan", _S, ("counter-corruption",)),
    (LEGIT, "recommendation", "2", "Within twelve months, forces should make sure that they treat people with fairness and respect during stop and search encounters.", D(2017, 12, 8), "cole", _P, ("stop and search",)),
    # PEEL effectiveness 2016.
    (EFFECT, "cause_of_concern", "", "The current approach to mapping organised crime groups is applied by forces in an unacceptably inconsistent way, giving an incomplete picture of the national threat.", None, "grant", _O, ("serious and organised crime",)),
    (EFFECT, "recommendation", "5", "Immediately, the responsibility for mapping organised crime groups should be transferred from individual police forces to regional organised crime units.", D(2017, 9, 30), None, _N, ("serious and organised crime",)),
    (EFFECT, "recommendation", "2", "Within six months, forces should make sure that neighbourhood officers have the time to engage with communities and prevent crime.", D(2017, 9, 2), "grant", _P, ("neighbourhood policing",)),
    # Online and on the edge (2015): numbered by chapter.
    (CSE, "recommendation", "7.1", "Within six months, chief constables should make sure that online child sexual exploitation is included in their force strategic assessment.", D(2016, 1, 2), "hughes", _P, ("CSE",)),
    (CSE, "recommendation", "7.2", "Within six months, chief constables should make sure that investigators have access to the digital forensic capability they need for online offending.", D(2016, 1, 2), "hughes", _O, ("CSE", "digital forensics")),
    (CSE, "recommendation", "7.3", "Within twelve months, chief constables should make sure that staff in the public protection unit are trained to deal with online exploitation.", D(2016, 7, 2), "ellis", _E, ("CSE",)),
    (CSE, "recommendation", "8.1", "Within six months, forces should make sure that referrals from the National Crime Agency about indecent images of children are risk-assessed within 24 hours.", D(2016, 1, 2), "hughes", _P, ("CSE",)),
    (CSE, "recommendation", "8.2", "Within twelve months, forces should work with schools to raise awareness of the risks children face online.", D(2016, 7, 2), "grant", _S, ("CSE",)),
    (CSE, "recommendation", "9.1", "The College of Policing should develop training on online child sexual exploitation.", None, None, _N, ("CSE",)),
    # Antisocial behaviour (2024).
    (ASB, "recommendation", "1", "By 30 September 2025, chief constables should make sure that their force records antisocial behaviour incidents accurately and identifies repeat victims.", D(2025, 9, 30), "grant", _P, ("ASB",)),
    (ASB, "recommendation", "2", "By 30 September 2025, chief constables should make sure that call handlers use a structured risk assessment for antisocial behaviour.", D(2025, 9, 30), "grant", _O, ("ASB",)),
    (ASB, "recommendation", "3", "By 31 March 2026, chief constables should make sure that the community trigger is publicised and that reviews are carried out promptly.", D(2026, 3, 31), "grant", _E, ("ASB",)),
    (ASB, "recommendation", "4", "By 31 December 2026, chief constables should make sure that neighbourhood teams use problem-solving to tackle persistent antisocial behaviour.", D(2026, 12, 31), "grant", _O, ("ASB", "neighbourhood policing")),
    (ASB, "recommendation", "5", "By 31 March 2027, chief constables should make sure that their force evaluates the use of antisocial behaviour powers.", D(2027, 3, 31), "grant", _O, ("ASB",)),
    (ASB, "recommendation", "7", "By 31 March 2027, chief constables should make sure that victims of antisocial behaviour are told what action has been taken.", D(2027, 3, 31), "grant", _O, ("ASB", "victims")),
    (ASB, "recommendation", "6", "The Home Office should update the statutory guidance on antisocial behaviour powers.", None, None, _N, ("ASB",)),
    # Police perpetrated domestic abuse super-complaint (2022).
    (PPDA, "recommendation", "1", "Chief constables should make sure that allegations of police perpetrated domestic abuse are investigated by a different force or by the professional standards department.", D(2022, 12, 16), "khan", _P, ("domestic abuse", "misconduct")),
    (PPDA, "recommendation", "2", "Chief constables should make sure that victims of police perpetrated domestic abuse are offered an independent domestic violence adviser.", D(2022, 12, 16), "turner", _O, ("domestic abuse",)),
    (PPDA, "recommendation", "3", "Chief constables should make sure that officers subject to allegations of domestic abuse are risk-assessed and, where appropriate, restricted from duty.", D(2022, 12, 16), "khan", _E, ("domestic abuse", "misconduct")),
    (PPDA, "recommendation", "4", "Chief constables should make sure that misconduct proceedings in domestic abuse cases are not delayed by criminal proceedings without good reason.", D(2023, 6, 16), "khan", _O, ("domestic abuse", "misconduct")),
    (PPDA, "recommendation", "5", "Chief constables should make sure that data on police perpetrated domestic abuse is collected and reviewed annually.", D(2027, 6, 16), "morris", _O, ("domestic abuse",)),
    (PPDA, "recommendation", "6", "The College of Policing should update its guidance on domestic abuse involving police officers and staff.", None, None, _N, ("domestic abuse",)),
    # Rape joint thematic, phase one (2021).
    (RAPE, "recommendation", "1", "Police forces and the CPS should develop a joint national action plan to improve the response to rape.", D(2022, 1, 31), "ellis", _S, ("rape",)),
    (RAPE, "recommendation", "2", "Chief constables should make sure that victims of rape are kept informed throughout the investigation in line with the Victims' Code.", D(2022, 7, 31), "ellis", _P, ("rape", "victims")),
    (RAPE, "recommendation", "3", "Chief constables should make sure that requests for digital material from victims' phones are necessary and proportionate.", D(2022, 7, 31), "ellis", _O, ("rape", "digital forensics")),
    (RAPE, "recommendation", "4", "Chief constables should make sure that rape investigations are allocated to trained specialist investigators.", D(2022, 7, 31), "ellis", _E, ("rape",)),
    (RAPE, "recommendation", "5", "Chief constables should make sure that early investigative advice is sought from the CPS in rape cases.", D(2027, 1, 31), "ellis", _O, ("rape",)),
    (RAPE, "recommendation", "6", "The CPS should make sure that its rape and serious sexual offences units have enough specialist prosecutors.", None, None, _N, ("rape",)),
    # Living in fear (2017): harassment and stalking.
    (STALK, "recommendation", "1", "Within six months, chief constables should make sure that stalking is recognised and recorded correctly by call handlers and officers.", D(2018, 1, 5), "ellis", _S, ("stalking",)),
    (STALK, "recommendation", "2", "Within six months, chief constables should make sure that victims of stalking receive a risk assessment using a recognised tool.", D(2018, 1, 5), "ellis", _P, ("stalking",)),
    (STALK, "recommendation", "3", "Within six months, chief constables should make sure that stalking protection orders are used where appropriate.", D(2018, 1, 5), "ellis", _O, ("stalking",)),
    (STALK, "recommendation", "4", "Within twelve months, chief constables should appoint a single point of contact for stalking in every force.", D(2018, 7, 5), "ellis", _E, ("stalking",)),
    (STALK, "recommendation", "5", "Within twelve months, chief constables should make sure that harassment offences are investigated with supervisory oversight.", D(2018, 7, 5), "ellis", _O, ("stalking",)),
    (STALK, "recommendation", "6", "Within twelve months, chief constables should make sure that online harassment is investigated with the same care as other harassment.", D(2018, 7, 5), "ellis", _P, ("stalking",)),
    (STALK, "recommendation", "7", "The Home Office should review the legislation on harassment and stalking.", None, None, _N, ("stalking",)),
    (STALK, "recommendation", "8", "The CPS should make sure that prosecutors understand the impact of stalking on victims.", None, None, _N, ("stalking",)),
    # Custody (2023): causes of concern and areas for improvement, not numbered.
    (CUSTODY, "cause_of_concern", "", "The force could not demonstrate that the use of force in custody was proportionate and justified.", D(2023, 11, 11), "price", _P, ("custody", "use of force")),
    (CUSTODY, "cause_of_concern", "", "Detainees with mental health needs were held in custody for too long awaiting assessment.", D(2023, 11, 11), "price", _O, ("custody",)),
    (CUSTODY, "afi", "", "The force should make sure that detainees' rights and entitlements are explained to them in a way they understand.", D(2027, 5, 11), "price", _O, ("custody",)),
    (CUSTODY, "afi", "", "The force should make sure that the strip-searching of detainees is recorded and justified.", D(2026, 11, 11), "price", _P, ("custody",)),
    (CUSTODY, "afi", "", "The force should make sure that children are not held overnight in custody.", D(2026, 12, 11), "price", _O, ("custody", "child protection")),
    (CUSTODY, "afi", "", "The force should improve the cleanliness of its custody suites.", None, "price", _S, ("custody",)),
    # Building the picture: information management (2020).
    (INFO, "recommendation", "1", "By 31 March 2021, chief constables should make sure that their force has an information management strategy endorsed by the chief officer team.", D(2021, 3, 31), "owen", _S, ("information management",)),
    (INFO, "recommendation", "2", "By 31 March 2021, chief constables should make sure that their force reviews, retains and deletes police information in line with the authorised professional practice.", D(2021, 3, 31), "owen", _P, ("information management",)),
    (INFO, "recommendation", "3", "By 30 September 2021, chief constables should make sure that their force's IT systems can share information with partner agencies.", D(2021, 9, 30), "owen", _O, ("information management",)),
    (INFO, "recommendation", "4", "By 30 September 2021, chief constables should make sure that intelligence reports are of good quality and are submitted promptly.", D(2021, 9, 30), "owen", _E, ("information management",)),
    (INFO, "recommendation", "5", "By 31 December 2026, chief constables should make sure that data quality is audited and that errors are corrected.", D(2026, 12, 31), "owen", _O, ("information management",)),
    (INFO, "recommendation", "7", "By 30 June 2027, chief constables should make sure that the Police National Database is updated with intelligence from all force systems.", D(2027, 6, 30), "owen", _P, ("information management",)),
    (INFO, "recommendation", "6", "The Home Office should replace the Police National Computer with a modern system.", None, None, _N, ("information management",)),
)  # fmt: skip


def report_views() -> tuple[ReportView, ...]:
    """The reports, with ids 1..20 in table order."""
    return tuple(
        ReportView(n, key, title, rtype, published, None, aliases)
        for n, (key, title, rtype, published, aliases) in enumerate(REPORTS, 1)
    )


def item_views() -> tuple[ItemView, ...]:
    """The items, with ids 1..n in table order."""
    report_id = {key: n for n, (key, *_rest) in enumerate(REPORTS, 1)}
    out = []
    for n, (key, kind, number, text, due, owner, status, themes) in enumerate(ITEMS, 1):
        name, aad = OWNERS[owner] if owner else (None, None)
        out.append(
            ItemView(
                id=n, report_id=report_id[key], kind=kind, number=number, text=text,
                addressee="Chief constables" if status != _N else "Another body", for_force=status != _N,
                deadline_text=f"By {due.day} {due:%B %Y}" if due else None, due_date=due,
                owner_name=name, owner_aad_id=aad, themes=themes, status=status, register_status=None,
                register_id=None, register_url=None, source_url=None, version=1, created_at=None,
                updated_at=None, status_changed_at=None,
            )
        )  # fmt: skip
    return tuple(out)


def snapshot() -> Snapshot:
    return Snapshot(seq=1, reports=report_views(), items=item_views(), full=True)


def read_model(snap: Snapshot | None = None) -> ReadModel:
    """An in-memory read model of the corpus (no database: the store is only used by load/refresh)."""
    model = ReadModel(cast(Store, None))
    model._install(snap or snapshot())
    return model
